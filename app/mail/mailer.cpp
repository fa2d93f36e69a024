#include "mail/mailer.hpp"

#include <spur/random.hpp>

#include <curl/curl.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>

namespace app::mail {

namespace {
// libcurl's global state, set up once before the first handle (idempotent and thread-safe in
// the libcurl Debian ships, but a single call keeps the start order plain).
void curl_global() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("curl_global_init failed");
    });
}

struct EasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct ListDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

// The message, handed to libcurl's upload piece by piece.
struct Upload {
    const std::string& data;
    std::size_t at = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto& up = *static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, up.data.size() - up.at);
    std::memcpy(buffer, up.data.data() + up.at, n);
    up.at += n;
    return n;
}

template <class T>
void set(CURL* h, CURLoption option, T value) {
    if (const CURLcode rc = curl_easy_setopt(h, option, value); rc != CURLE_OK)
        throw MailError(std::string("libcurl refused an SMTP option: ") + curl_easy_strerror(rc), true);
}

// A name that sorts by time, then is unique: 20250701T120000.123456Z-000042-<random>.eml. The
// counter orders this process's mails written in one microsecond; the random part keeps
// several instances writing to one directory apart.
std::string eml_name() {
    static std::atomic<unsigned> sequence{0};
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1'000'000;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char stamp[48];
    std::snprintf(stamp, sizeof stamp, "%04d%02d%02dT%02d%02d%02d.%06dZ-%06u", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us), sequence++ % 1'000'000);
    return std::string(stamp) + "-" + spur::random_token(6) + ".eml";
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }
}  // namespace

Mailer::Mailer(MailerOptions options) : options_(std::move(options)), from_(parse_mailbox(options_.from)) {
    if (!options_.smtp_url.empty() && !starts_with(options_.smtp_url, "smtp://") && !starts_with(options_.smtp_url, "smtps://"))
        throw std::invalid_argument("the SMTP URL must start with smtp:// or smtps://");
    if (!options_.smtp_url.empty()) curl_global();
}

Mailer::Transport Mailer::transport() const noexcept {
    if (!options_.smtp_url.empty()) return Transport::smtp;
    return options_.mail_dir.empty() ? Transport::off : Transport::directory;
}

std::string Mailer::describe() const {
    switch (transport()) {
    case Transport::smtp:
        return "mail goes to " + options_.smtp_url +
               (starts_with(options_.smtp_url, "smtps://") ? " (TLS)"
                : options_.require_tls                     ? " (STARTTLS required)"
                                                           : " (STARTTLS when offered)");
    case Transport::directory: return "mail is written to " + options_.mail_dir + " (no SMTP_URL)";
    case Transport::off: break;
    }
    return "mail is off: neither SMTP_URL nor MAIL_DIR is set, so no reset or verification mail can be sent";
}

std::string Mailer::deliver(const Message& message) const {
    const std::string raw = compose(message, from_, std::chrono::system_clock::now());
    switch (transport()) {
    case Transport::smtp: return send_smtp(raw, parse_mailbox(message.to).address);
    case Transport::directory: return write_file(raw);
    case Transport::off: break;
    }
    throw MailError("mail is off: set SMTP_URL (or MAIL_DIR to write mails to files)", true);
}

spur::Task<std::string> Mailer::send(Message message) {
    auto work = [this, &message] { return deliver(message); };
    co_return co_await spur::offload(work_, work);
}

std::string Mailer::send_smtp(const std::string& raw, const std::string& to_address) const {
    std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
    if (!handle) throw MailError("curl_easy_init failed", false);
    CURL* h = handle.get();
    char error[CURL_ERROR_SIZE] = {};
    const std::string sender = "<" + from_.address + ">";
    std::unique_ptr<curl_slist, ListDeleter> recipients(curl_slist_append(nullptr, ("<" + to_address + ">").c_str()));
    if (!recipients) throw MailError("out of memory", false);
    Upload upload{raw};
    set(h, CURLOPT_ERRORBUFFER, error);
    set(h, CURLOPT_URL, options_.smtp_url.c_str());
    set(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");  // the URL can name nothing else
    set(h, CURLOPT_NOSIGNAL, 1L);                  // many threads: no SIGALRM for name resolution
    // STARTTLS when the server offers it (or always, when required); the certificate and the
    // host name are verified in both cases (libcurl's defaults, set here so no one unsets them).
    set(h, CURLOPT_USE_SSL, static_cast<long>(options_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    set(h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) set(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    if (!options_.username.empty()) {
        set(h, CURLOPT_USERNAME, options_.username.c_str());
        set(h, CURLOPT_PASSWORD, options_.password.c_str());
    }
    set(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    set(h, CURLOPT_MAIL_FROM, sender.c_str());
    set(h, CURLOPT_MAIL_RCPT, recipients.get());
    set(h, CURLOPT_READFUNCTION, &read_upload);
    set(h, CURLOPT_READDATA, &upload);
    set(h, CURLOPT_UPLOAD, 1L);
    set(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
    const CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) return options_.smtp_url;
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    // A 5xx reply is the server's final no (RFC 5321 4.2.1): the same mail would get it again.
    // So is a URL libcurl cannot use. Timeouts, refused connections and 4xx are worth a retry.
    const bool permanent = (reply >= 500 && reply < 600) || rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL;
    std::string what = "SMTP to " + options_.smtp_url + " failed: " + (error[0] ? error : curl_easy_strerror(rc));
    if (reply != 0) what += " (reply " + std::to_string(reply) + ")";
    throw MailError(what, permanent);
}

std::string Mailer::write_file(const std::string& raw) const {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(options_.mail_dir, ec);
    if (ec) throw MailError("cannot create MAIL_DIR " + options_.mail_dir + ": " + ec.message(), false);
    const fs::path path = fs::path(options_.mail_dir) / eml_name();
    std::string hidden = ".";  // not "." + string: GCC 12 at -O3 reports that as -Wrestrict
    hidden += path.filename().string();
    hidden += ".part";
    const fs::path partial = fs::path(options_.mail_dir) / hidden;
    // Mode 600: a mail holds a reset link, a credential. Written aside and renamed, so a reader
    // watching the directory never sees half a mail.
    const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw MailError("cannot write " + partial.string() + ": " + std::strerror(errno), false);
    std::size_t written = 0;
    while (written < raw.size()) {
        const ssize_t n = ::write(fd, raw.data() + written, raw.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = std::strerror(errno);
            ::close(fd);
            fs::remove(partial, ec);
            throw MailError("cannot write " + partial.string() + ": " + why, false);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) throw MailError("cannot write " + partial.string() + ": " + std::strerror(errno), false);
    fs::rename(partial, path, ec);
    if (ec) throw MailError("cannot rename " + partial.string() + ": " + ec.message(), false);
    return path.string();
}

}  // namespace app::mail
