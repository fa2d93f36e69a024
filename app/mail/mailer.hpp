#pragma once
// Sending a mail: to an SMTP server through libcurl's SMTP client (STARTTLS when offered, or
// implicit TLS with smtps://), or, without one, as a .eml file in a directory (development).

#include "mail/message.hpp"

#include <spur/offload.hpp>
#include <spur/task.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

namespace app::mail {

struct MailerOptions {
    /// `smtp://host:port` (STARTTLS when the server offers it) or `smtps://host:port` (TLS from
    /// the first byte); empty: no SMTP.
    std::string smtp_url;
    std::string username;  ///< SMTP AUTH, when not empty
    std::string password;
    /// Refuse to send unless the session is encrypted (STARTTLS must be offered and succeed).
    bool require_tls = false;
    /// A PEM file of CA certificates to verify the server with (a private CA); empty: the system's.
    std::string ca_file;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds timeout{30'000};  ///< the whole session, connect included
    /// Without smtp_url: each mail is written here as a .eml file (created if missing).
    std::string mail_dir;
    std::string from = "spur-app <noreply@localhost>";  ///< the From header and envelope sender
};

/// A mail that could not be sent. `permanent()`: sending it again cannot help (the server
/// refused it with a 5xx reply, no transport is configured, the message is malformed).
class MailError : public std::runtime_error {
public:
    MailError(const std::string& what, bool permanent) : std::runtime_error(what), permanent_(permanent) {}
    bool permanent() const noexcept { return permanent_; }

private:
    bool permanent_;
};

class Mailer {
public:
    enum class Transport { smtp, directory, off };

    /// Throws std::invalid_argument for a `from` parse_mailbox refuses or a smtp_url that is not
    /// smtp:// or smtps://.
    explicit Mailer(MailerOptions options);
    Mailer(const Mailer&) = delete;
    Mailer& operator=(const Mailer&) = delete;

    /// SMTP when smtp_url is set, else a directory when mail_dir is, else off.
    Transport transport() const noexcept;
    /// Where mail goes, for the start-up log: the SMTP URL (never the credentials), the
    /// directory, or that mail is off.
    std::string describe() const;
    const Mailbox& from() const noexcept { return from_; }

    /// Composes and sends `message`, blocking for up to the timeout: returns where it went (the
    /// SMTP URL, or the .eml file's path). Throws MailError (permanent() for what a retry
    /// cannot fix), std::invalid_argument for a header injection (compose()).
    std::string deliver(const Message& message) const;

    /// deliver() on the blocking pool, never on an I/O thread; at most 16 at once (then
    /// HttpError 503 overloaded, a failure the caller may retry).
    spur::Task<std::string> send(Message message);

private:
    std::string send_smtp(const std::string& raw, const std::string& to_address) const;
    std::string write_file(const std::string& raw) const;

    MailerOptions options_;
    Mailbox from_;
    spur::WorkClass work_{"mail", 16};
};

}  // namespace app::mail
