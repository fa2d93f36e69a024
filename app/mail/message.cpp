#include "mail/message.hpp"

#include <spur/random.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace app::mail {

namespace {
bool printable_ascii(unsigned char c) { return c >= 0x20 && c < 0x7f; }

bool all_ascii(std::string_view text) {
    for (unsigned char c : text)
        if (c >= 0x80) return false;
    return true;
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// A header value that is not ASCII as RFC 2047 encoded words (`=?utf-8?B?…?=`), each at most 75
// characters and cut between UTF-8 sequences, folded onto continuation lines.
std::string encoded_words(std::string_view text) {
    constexpr std::size_t max_bytes = 45;  // 60 base64 characters + 12 of `=?utf-8?B??=`
    std::string out;
    while (!text.empty()) {
        std::size_t take = std::min(max_bytes, text.size());
        // Not inside a sequence: back off while the next byte is a continuation byte.
        while (take < text.size() && take > 0 && (static_cast<unsigned char>(text[take]) & 0xC0) == 0x80) --take;
        if (take == 0) take = std::min(max_bytes, text.size());  // malformed UTF-8: cut anyway
        if (!out.empty()) out += "\r\n ";
        out += "=?utf-8?B?" + base64(text.substr(0, take)) + "?=";
        text.remove_prefix(take);
    }
    return out;
}

// The domain of a mailbox's address, for the Message-ID's right side.
std::string_view domain_of(std::string_view address) {
    const auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view("localhost") : address.substr(at + 1);
}

// The body in "\r\n" lines, whatever it came with.
std::string crlf_lines(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // written with its \n
        if (text[i] == '\n' || text[i] == '\r') out += "\r\n";
        else out += text[i];
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}

// Whether the body can go as it is: ASCII, no NUL, no bare CR, and no line over SMTP's 998 bytes.
bool seven_bit(std::string_view text) {
    std::size_t line = 0;
    for (unsigned char c : text) {
        if (c >= 0x80 || c == '\0') return false;
        line = c == '\n' ? 0 : line + 1;
        if (line > 998) return false;
    }
    return true;
}
}  // namespace

void check_header_value(std::string_view header, std::string_view value) {
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        throw std::invalid_argument(std::string(header) + " must not contain CR, LF or NUL (header injection)");
}

Mailbox parse_mailbox(std::string_view text) {
    check_header_value("a mail address", text);
    for (unsigned char c : text)
        if (!printable_ascii(c)) throw std::invalid_argument("a mail address must be printable ASCII");
    std::string_view address = text;
    if (const auto open = text.rfind('<'); open != std::string_view::npos) {
        if (text.back() != '>') throw std::invalid_argument("a mail address with <…> must end with >");
        address = text.substr(open + 1, text.size() - open - 2);
    }
    const auto at = address.rfind('@');
    if (address.empty() || at == 0 || at == std::string_view::npos || at + 1 == address.size() ||
        address.find_first_of(" \t<>,;\"") != std::string_view::npos)
        throw std::invalid_argument("not a mail address: expected `Name <local@domain>` or `local@domain`");
    return {std::string(text), std::string(address)};
}

std::string rfc5322_date(std::chrono::system_clock::time_point time) {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = std::chrono::system_clock::to_time_t(time);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char out[40];
    std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                  months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return out;
}

std::string quoted_printable(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    const std::string lines = crlf_lines(text);
    std::string out, line;
    auto flush_soft = [&] {  // a soft line break: `=` at the end, joined again when decoded
        out += line + "=\r\n";
        line.clear();
    };
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(lines[i]);
        if (c == '\r' && i + 1 < lines.size() && lines[i + 1] == '\n') {
            // White space at a line's end may be dropped by transports: encode it.
            if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
                const unsigned char last = static_cast<unsigned char>(line.back());
                line.pop_back();
                if (line.size() + 3 > 76) flush_soft();
                line += '=';
                line += hex[last >> 4];
                line += hex[last & 15];
            }
            out += line + "\r\n";
            line.clear();
            ++i;
            continue;
        }
        // A `.` opening a line is SMTP's end of data when alone: encode it rather than rely on stuffing.
        const bool literal = (c == ' ' || c == '\t' || (c > 0x20 && c < 0x7f && c != '=')) && !(c == '.' && line.empty());
        const std::size_t width = literal ? 1 : 3;
        if (line.size() + width > 75) flush_soft();  // 75 + the soft break's `=`
        if (literal) {
            line += static_cast<char>(c);
        } else {
            line += '=';
            line += hex[c >> 4];
            line += hex[c & 15];
        }
    }
    return out;
}

std::string compose(const Message& message, const Mailbox& from, std::chrono::system_clock::time_point now) {
    check_header_value("From", from.header);
    check_header_value("Subject", message.subject);
    const Mailbox to = parse_mailbox(message.to);
    const std::string subject = all_ascii(message.subject) ? message.subject : encoded_words(message.subject);
    const bool plain = seven_bit(message.text);
    std::string out;
    out += "From: " + from.header + "\r\n";
    out += "To: " + to.header + "\r\n";
    out += "Subject: " + subject + "\r\n";
    out += "Date: " + rfc5322_date(now) + "\r\n";
    out += "Message-ID: <" + spur::random_token(18) + "@" + std::string(domain_of(from.address)) + ">\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += std::string("Content-Transfer-Encoding: ") + (plain ? "7bit" : "quoted-printable") + "\r\n";
    out += "\r\n";
    out += plain ? crlf_lines(message.text) : quoted_printable(message.text);
    return out;
}

}  // namespace app::mail
