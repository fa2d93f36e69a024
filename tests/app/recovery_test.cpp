// Account recovery and verified addresses end to end: spur-app serving on a real socket with
// its job workers, MariaDB, and a real SMTP server (aiosmtpd) that the mails arrive at.
#include "auth/recovery.hpp"

#include "auth/tokens.hpp"
#include "db_session.hpp"
#include "harness.hpp"
#include "smtp_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

using namespace app::test;
using boost::beast::http::verb;
namespace json = boost::json;

namespace {
// spur-app mailing `smtp` through jobs that look for work every 20 ms.
app::Config mailing(const SmtpServer& smtp) {
    app::Config c = test_config();
    c.smtp_url = smtp.url();
    c.smtp_from = "spur-app <noreply@spur.test>";
    c.public_url = "http://app.test/";  // the trailing slash is dropped from the links
    c.job_poll_ms = 20;
    c.require_verified_email = true;
    c.mail_burst_per_address = 10;
    c.reset_burst_per_ip = 1000;
    return c;
}

// The test database is shared: mails other tests asked for (in-process apps run no workers)
// are still queued. This test's workers would send them all first; they are nobody's now.
// Before the app serves (its workers start with it), after the migrations made the table.
void forget_queued_mails(const app::Config& config, DbSession& db) {
    app::migrations_now(app::database_config(config), true);
    db.query("DELETE FROM spur_jobs WHERE state = 'queued' AND kind LIKE 'mail.%'");
}

// No mail job is waiting or running: every mail asked for so far has been sent (or dropped).
bool mail_jobs_settled(DbSession& db) {
    return db.number("SELECT COUNT(*) FROM spur_jobs WHERE kind LIKE 'mail.%' AND state IN ('queued', 'running')") == 0;
}

std::string body_of(const json::object& mail) { return std::string(mail.at("body").as_string()); }

std::string create_key(Running& app, const std::string& token, int expect) {
    auto r = post(app, "/api/keys", {{"name", "script"}, {"password", "password123"}}, bearer(token));
    INFO(r.body);
    REQUIRE(r.status == expect);
    return r.status == 201 ? std::string(r.json().at("secret").as_string()) : std::string();
}
}  // namespace

TEST_CASE("register mails a verification link that verifies the address once, and API keys need a verified address", "[app][recovery]") {
    SmtpServer smtp;
    DbSession db;
    forget_queued_mails(mailing(smtp), db);
    Running app(mailing(smtp), true, Via::wire);
    const std::string email = unique_email("verify");
    const std::string token = signup(app, email);

    auto me = get(app, "/api/auth/me", bearer(token));
    CHECK(me.json().at("user").at("email_verified") == false);
    auto refused = post(app, "/api/keys", {{"name", "script"}, {"password", "password123"}}, bearer(token));
    CHECK(refused.status == 403);
    CHECK(refused.json().at("error").at("code") == "email_unverified");

    const auto mail = smtp.wait_for(email).front();
    CHECK(mail.at("mail_from") == "noreply@spur.test");
    CHECK(mail.at("headers").at("Subject") == "Confirm your e-mail address");
    CHECK(body_of(mail).find("http://app.test/verify-email?token=") != std::string::npos);
    const std::string link = link_token(body_of(mail));
    REQUIRE(link.size() == 43);
    // Only the token's SHA-256 is stored.
    CHECK(db.number("SELECT COUNT(*) FROM account_tokens WHERE token_hash = '" + app::auth::token_hash(link) + "'") == 1);
    CHECK(db.number("SELECT COUNT(*) FROM account_tokens WHERE token_hash = '" + link + "'") == 0);

    auto confirmed = post(app, "/api/auth/verify-email/confirm", {{"token", link}});
    REQUIRE(confirmed.status == 200);
    CHECK(confirmed.json().at("user").at("email") == json::value(email));
    CHECK(confirmed.json().at("user").at("email_verified") == true);
    auto again = post(app, "/api/auth/verify-email/confirm", {{"token", link}});
    CHECK(again.status == 400);
    CHECK(again.json().at("error").at("code") == "invalid_verification_token");
    CHECK(get(app, "/api/auth/me", bearer(token)).json().at("user").at("email_verified") == true);
    create_key(app, token, 201);

    // Verified: asking again sends nothing (no job is even enqueued).
    auto resend = call(app, verb::post, "/api/auth/verify-email", "", bearer(token));
    CHECK(resend.status == 202);
    wait_until([&] { return mail_jobs_settled(db); });
    CHECK(smtp.mails_to(email).size() == 1);

    // Unverified: "Resend" mails a second link; the first still works (either proves the address).
    const std::string other = unique_email("resend");
    const std::string other_token = signup(app, other);
    CHECK(call(app, verb::post, "/api/auth/verify-email", "", bearer(other_token)).status == 202);
    const auto both = smtp.wait_for(other, 2);
    CHECK(link_token(body_of(both[0])) != link_token(body_of(both[1])));
    CHECK(post(app, "/api/auth/verify-email/confirm", {{"token", link_token(body_of(both[0]))}}).status == 200);
    CHECK(call(app, verb::post, "/api/auth/verify-email").status == 401);  // signed in only
}

TEST_CASE("password reset: 202 with one body either way, one mail, a link that works once and ends every session and key", "[app][recovery]") {
    SmtpServer smtp;
    DbSession db;
    forget_queued_mails(mailing(smtp), db);
    Running app(mailing(smtp), true, Via::wire);
    const std::string email = unique_email("reset");
    const std::string nobody = unique_email("nobody");
    const std::string session = signup(app, email);
    db.query("UPDATE users SET email_verified_at = UTC_TIMESTAMP(3) WHERE email = '" + email + "'");
    const std::string key = create_key(app, session, 201);
    db.query("UPDATE users SET email_verified_at = NULL WHERE email = '" + email + "'");  // the reset proves it again
    wait_until([&] { return mail_jobs_settled(db); });  // the registration's verification mail
    const std::size_t before = smtp.mails_to(email).size();

    const auto reset_jobs = [&] { return db.number("SELECT COUNT(*) FROM spur_jobs WHERE kind = 'mail.password_reset'"); };
    const std::int64_t jobs_before = reset_jobs();
    std::string spelt = email;  // any spelling of the address finds the account
    std::transform(spelt.begin(), spelt.end(), spelt.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
    auto known = post(app, "/api/auth/password-reset", {{"email", " " + spelt + " "}});
    auto unknown = post(app, "/api/auth/password-reset", {{"email", nobody}});
    CHECK(known.status == 202);
    CHECK(unknown.status == 202);
    CHECK(known.body == unknown.body);  // nothing tells them apart
    CHECK(reset_jobs() == jobs_before + 2);  // and both did the same work: a job each
    // The unknown address's job names nobody (and no job carries a token: it is made when the job runs).
    CHECK(db.number("SELECT COUNT(*) FROM spur_jobs WHERE kind = 'mail.password_reset' AND "
                    "CAST(payload AS CHAR) = '{\"user_id\":null}'") >= 1);

    wait_until([&] { return mail_jobs_settled(db); });
    CHECK(smtp.mails_to(nobody).empty());
    const auto mails = smtp.mails_to(email);
    REQUIRE(mails.size() == before + 1);  // exactly one mail arrived
    const auto& mail = mails.back();
    CHECK(mail.at("headers").at("Subject") == "Reset your spur-app password");
    CHECK(body_of(mail).find("http://app.test/reset-password?token=") != std::string::npos);
    const std::string token = link_token(body_of(mail));

    auto weak = post(app, "/api/auth/password-reset/confirm", {{"token", token}, {"new_password", "short"}});
    CHECK(weak.status == 400);  // the password rules of register; the token is still good
    CHECK(weak.json().at("error").at("code") == "validation_error");
    auto reset = post(app, "/api/auth/password-reset/confirm", {{"token", token}, {"new_password", "a new password"}});
    CHECK(reset.status == 204);
    auto twice = post(app, "/api/auth/password-reset/confirm", {{"token", token}, {"new_password", "another password"}});
    CHECK(twice.status == 400);
    CHECK(twice.json().at("error").at("code") == "invalid_reset_token");

    CHECK(post(app, "/api/auth/login", {{"email", email}, {"password", "password123"}}).status == 401);
    CHECK(get(app, "/api/auth/me", bearer(session)).status == 401);      // the old session ended
    CHECK(get(app, "/api/texts", {{"X-API-Key", key}}).status == 401);  // and the old key
    auto login = post(app, "/api/auth/login", {{"email", email}, {"password", "a new password"}});
    REQUIRE(login.status == 200);
    CHECK(login.json().at("user").at("email_verified") == true);  // the mail proved the address

    // Two more links, made by two workers at once: the one made last voids the other, whichever
    // mail arrives first; an expired link is refused too.
    CHECK(post(app, "/api/auth/password-reset", {{"email", email}}).status == 202);
    CHECK(post(app, "/api/auth/password-reset", {{"email", email}}).status == 202);
    const auto later = smtp.wait_for(email, before + 3);
    std::string older = link_token(body_of(later[later.size() - 2])), newest = link_token(body_of(later.back()));
    const auto live = [&](const std::string& t) {
        return db.number("SELECT COUNT(*) FROM account_tokens WHERE used_at IS NULL AND token_hash = '" +
                         app::auth::token_hash(t) + "'");
    };
    CHECK(live(older) + live(newest) == 1);
    if (live(older) == 1) std::swap(older, newest);
    CHECK(post(app, "/api/auth/password-reset/confirm", {{"token", older}, {"new_password", "third password"}}).status == 400);
    db.query("UPDATE account_tokens SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE token_hash = '" +
             app::auth::token_hash(newest) + "'");
    auto expired = post(app, "/api/auth/password-reset/confirm", {{"token", newest}, {"new_password", "third password"}});
    CHECK(expired.status == 400);
    CHECK(expired.json().at("error").at("code") == "invalid_reset_token");
    CHECK(post(app, "/api/auth/login", {{"email", email}, {"password", "a new password"}}).status == 200);
}

TEST_CASE("password reset and verification are throttled, whether the account exists or not", "[app][recovery]") {
    app::Config config = test_config();
    config.mail_burst_per_address = 2;
    config.reset_burst_per_ip = 6;
    Running app(config);  // in-process: the answers are the subject, not the mails
    const std::string known = unique_email("throttle"), nobody = unique_email("throttle-nobody");
    const std::string session = signup(app, known);
    auto ask = [&](const std::string& email) { return post(app, "/api/auth/password-reset", {{"email", email}}); };
    // Per address: the third request for one address is refused, for an account or not alike.
    for (const auto& email : {nobody, known}) {
        CHECK(ask(email).status == 202);
        CHECK(ask(email).status == 202);
        auto third = ask(email);
        CHECK(third.status == 429);
        CHECK(third.json().at("error").at("code") == "too_many_requests");
        CHECK_FALSE(third.header("Retry-After").empty());
    }
    // Per client address: six requests spent its bucket; a fresh address is refused too.
    auto ip = ask(unique_email("fresh"));
    CHECK(ip.status == 429);
    CHECK_FALSE(ip.header("Retry-After").empty());

    auto malformed = post(app, "/api/auth/password-reset", {{"email", "not an address"}});
    CHECK(malformed.status == 400);
    CHECK(malformed.json().at("error").at("code") == "validation_error");
    auto junk = post(app, "/api/auth/password-reset/confirm", {{"token", "junk"}, {"new_password", "a new password"}});
    CHECK(junk.json().at("error").at("code") == "invalid_reset_token");
    auto junk_verify = post(app, "/api/auth/verify-email/confirm", {{"token", std::string(43, 'A')}});
    CHECK(junk_verify.json().at("error").at("code") == "invalid_verification_token");

    // Verification mails per account.
    CHECK(call(app, verb::post, "/api/auth/verify-email", "", bearer(session)).status == 202);
    CHECK(call(app, verb::post, "/api/auth/verify-email", "", bearer(session)).status == 202);
    auto third = call(app, verb::post, "/api/auth/verify-email", "", bearer(session));
    CHECK(third.status == 429);
    CHECK_FALSE(third.header("Retry-After").empty());
}

TEST_CASE("register refuses an address no mail can reach: control characters or non-ASCII, no account, no job", "[app][recovery]") {
    // The mailer refuses them (header injection, no SMTPUTF8): such an account could never
    // confirm its address nor reset its password, and each sign-up left a dead job behind.
    Running app;
    DbSession db;
    const std::string tail = unique_email("unmailable");
    for (const std::string& email : {"a\x01" + tail, "x" + tail.substr(0, tail.find('@')) + "@exa" + std::string(1, '\0') + "mple.test",
                                     "v\xc3\xad" + tail}) {
        auto r = post(app, "/api/auth/register", {{"email", email}, {"password", "password123"}});
        INFO(r.body);
        CHECK(r.status == 400);
        CHECK(r.json().at("error").at("code") == "validation_error");
    }
    CHECK(db.number("SELECT COUNT(*) FROM users WHERE email LIKE '%" + tail.substr(0, tail.find('@')) + "%'") == 0);
    // A reset asked for such an address is refused alike (it could match no account).
    auto reset = post(app, "/api/auth/password-reset", {{"email", "a\x01" + tail}});
    CHECK(reset.status == 400);
}
