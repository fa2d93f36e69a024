#pragma once
// An e-mail as RFC 5322 text: the headers spur-app sends (From, To, Subject, Date, Message-ID,
// MIME-Version, Content-Type, Content-Transfer-Encoding) and a plain UTF-8 body. No I/O.

#include <chrono>
#include <string>
#include <string_view>

namespace app::mail {

/// What a mail says, and to whom. The sender is the mailer's (SMTP_FROM).
struct Message {
    std::string to;       ///< one address: `ada@example.com`
    std::string subject;  ///< UTF-8; encoded (RFC 2047) when it is not ASCII
    std::string text;     ///< the body, UTF-8, lines separated by "\n"
};

/// A mailbox as a header shows it (`spur-app <noreply@example.com>` or `noreply@example.com`),
/// split into the whole and its address (what the SMTP envelope carries).
struct Mailbox {
    std::string header;   ///< as given, for From/To
    std::string address;  ///< the addr-spec alone: `noreply@example.com`
};

/// Parses `text` as `Display Name <local@domain>` or `local@domain`: printable ASCII only, one
/// `@` with something on either side, no white space inside the address. Throws
/// std::invalid_argument naming what is wrong (a CR or LF in it is a header injection).
Mailbox parse_mailbox(std::string_view text);

/// Throws std::invalid_argument when `value` holds a CR, LF or NUL: such a header value would
/// end its header and start another (header injection), whatever its other bytes are.
void check_header_value(std::string_view header, std::string_view value);

/// The message as RFC 5322 text with CRLF line ends, ready for SMTP's DATA or a .eml file: From
/// = `from`, To, Subject, Date (`now`, as +0000), Message-ID (random, at the sender's domain),
/// MIME-Version 1.0, `text/plain; charset=utf-8`; the body 7bit when it is ASCII with lines of at
/// most 998 bytes, else quoted-printable. Throws std::invalid_argument for a CR/LF in a header
/// value (header injection) or a `to` that parse_mailbox refuses.
std::string compose(const Message& message, const Mailbox& from, std::chrono::system_clock::time_point now);

/// `time` as RFC 5322's date-time in UTC: `Tue, 01 Jul 2025 12:00:00 +0000` (no locale).
std::string rfc5322_date(std::chrono::system_clock::time_point time);

/// `text` (UTF-8, "\n" or "\r\n" line ends) as quoted-printable (RFC 2045) with CRLF line
/// ends: lines of at most 76 characters, `=` and bytes outside printable ASCII as `=XX`, white
/// space before a line end and a leading `.` encoded too.
std::string quoted_printable(std::string_view text);

}  // namespace app::mail
