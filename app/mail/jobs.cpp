#include "mail/jobs.hpp"

#include "auth/repository.hpp"
#include "auth/tokens.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <initializer_list>
#include <span>

namespace app::mail {

namespace {
// However many requests asked (each spelling of an address has its own throttle bucket), an
// account gets at most this many reset mails an hour; the rest are dropped silently, so the
// cap tells a requester nothing about whether the account exists.
constexpr std::uint64_t max_reset_mails_per_hour = 10;

std::string payload(std::optional<std::uint64_t> user) {
    boost::json::object o;
    if (user) o["user_id"] = *user;
    else o["user_id"] = nullptr;
    return boost::json::serialize(o);
}

// The account a job is about; nullopt for a reset asked for an address with no account.
std::optional<std::uint64_t> payload_user(const spur::mysql::Job& job) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(job.payload, ec);
    const auto* o = ec ? nullptr : v.if_object();
    const auto* id = o ? o->if_contains("user_id") : nullptr;
    if (id && id->is_null()) return std::nullopt;
    if (id && id->is_uint64()) return id->as_uint64();
    if (id && id->is_int64() && id->as_int64() > 0) return static_cast<std::uint64_t>(id->as_int64());
    throw spur::mysql::PermanentJobError("malformed payload of " + job.kind + ": " + job.payload);
}

void log(Services& s, spur::LogLevel level, std::string_view message, std::initializer_list<spur::LogField> fields) {
    s.log(spur::LogRecord{.level = level, .message = message, .fields = std::span<const spur::LogField>(fields.begin(), fields.size())});
}

// Mail off is a configuration, not a hiccup: retrying cannot help until an operator sets
// SMTP_URL, and then `spur-app jobs retry` brings the job back.
void require_transport(const Services& s) {
    if (s.mailer.transport() == Mailer::Transport::off)
        throw spur::mysql::PermanentJobError("mail is off: set SMTP_URL (or MAIL_DIR to write mails to files)");
}

spur::Task<> deliver(Services& s, const spur::mysql::Job& job, Message message, std::uint64_t user) {
    std::string where;
    try {
        where = co_await s.mailer.send(std::move(message));
    } catch (const MailError& e) {
        if (e.permanent()) throw spur::mysql::PermanentJobError(e.what());
        throw;
    } catch (const std::invalid_argument& e) {  // a header the composer refused: the same next time
        throw spur::mysql::PermanentJobError(std::string("malformed mail: ") + e.what());
    }
    // The file's path (MAIL_DIR) is what a developer opens to follow the link; never the link
    // itself, which is a credential, in the log.
    const bool file = s.mailer.transport() == Mailer::Transport::directory;
    log(s, spur::LogLevel::info, file ? "mail written" : "mail sent",
        {{"kind", boost::json::value(boost::json::string_view(job.kind))},
         {"user_id", boost::json::value(user)},
         {"job_id", boost::json::value(job.id)},
         {file ? "path" : "to", boost::json::value(boost::json::string_view(where))}});
}

spur::Task<> send_password_reset(Services& s, spur::mysql::Job job) {
    const auto user_id = payload_user(job);
    if (!user_id) co_return;  // an address without an account: asked only so both answers cost the same
    require_transport(s);
    auto user = co_await auth::find_user_by_id(s.db, *user_id);
    if (!user) co_return;  // deleted since
    if (co_await auth::tokens_issued_last_hour(s.db, user->id, auth::TokenPurpose::reset) >= max_reset_mails_per_hour) {
        log(s, spur::LogLevel::warn, "reset mail dropped: the account had its hourly share",
            {{"user_id", boost::json::value(user->id)}, {"job_id", boost::json::value(job.id)}});
        co_return;
    }
    // Made now, not at request time: a job run again makes a new one, and voids the older.
    const std::string token = co_await auth::issue_token(s.db, user->id, auth::TokenPurpose::reset);
    Message m;
    m.to = user->email;
    m.subject = "Reset your spur-app password";
    m.text = "Hello,\n\n"
             "someone asked to reset the password of the spur-app account " + user->email + ".\n"
             "If it was you, open this link within 30 minutes to choose a new password:\n\n" +
             link(s.config, "/reset-password", token) + "\n\n"
             "The link works once, and only the newest link sent works. If you did not ask for it,\n"
             "ignore this mail: your password stays as it is.\n";
    co_await deliver(s, job, std::move(m), user->id);
}

spur::Task<> send_verification(Services& s, spur::mysql::Job job) {
    const auto user_id = payload_user(job);
    if (!user_id) throw spur::mysql::PermanentJobError("a verification job without an account");
    auto user = co_await auth::find_user_by_id(s.db, *user_id);
    if (!user || user->email_verified_at) co_return;  // deleted since, or verified already: nothing to send
    require_transport(s);
    const std::string token = co_await auth::issue_token(s.db, user->id, auth::TokenPurpose::verify);
    Message m;
    m.to = user->email;
    m.subject = "Confirm your e-mail address";
    m.text = "Hello,\n\n"
             "please confirm that " + user->email + " is your address: open this link within 48 hours:\n\n" +
             link(s.config, "/verify-email", token) + "\n\n"
             "If you did not create a spur-app account, ignore this mail.\n";
    co_await deliver(s, job, std::move(m), user->id);
}
}  // namespace

std::string link(const Config& config, std::string_view path, std::string_view token) {
    return public_url(config) + std::string(path) + "?token=" + std::string(token);
}

spur::Task<> enqueue_password_reset(Services& s, spur::mysql::Connection& tx, std::optional<std::uint64_t> user) {
    co_await s.jobs.enqueue(tx, std::string(password_reset_job), payload(user));
}

spur::Task<> enqueue_verification(Services& s, spur::mysql::Connection& tx, std::uint64_t user) {
    co_await s.jobs.enqueue(tx, std::string(verify_email_job), payload(user));
}

spur::Task<> enqueue_verification(Services& s, std::uint64_t user) {
    co_await s.jobs.enqueue(std::string(verify_email_job), payload(user));
}

void handle_jobs(Services& s) {
    s.jobs.handle(std::string(password_reset_job), [&s](const spur::mysql::Job& job) { return send_password_reset(s, job); });
    s.jobs.handle(std::string(verify_email_job), [&s](const spur::mysql::Job& job) { return send_verification(s, job); });
}

void log_transport(Services& s) {
    const bool off = s.mailer.transport() == Mailer::Transport::off;
    log(s, off ? spur::LogLevel::warn : spur::LogLevel::info, s.mailer.describe(), {});
    const bool clear = s.config.smtp_url.rfind("smtp://", 0) == 0 && !s.config.smtp_require_tls;
    if (clear && !s.config.smtp_password.empty())
        log(s, spur::LogLevel::warn,
            "SMTP_PASSWORD may be sent in clear: the server need not offer STARTTLS; set SMTP_REQUIRE_TLS=1", {});
}

}  // namespace app::mail
