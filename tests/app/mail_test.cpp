// app/mail: composing a message, and sending it to a real SMTP server (aiosmtpd on loopback)
// through libcurl — plain, STARTTLS, smtps:// — or into a directory of .eml files.
#include "mail/mailer.hpp"
#include "mail/message.hpp"

#include "smtp_server.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

using namespace app::mail;
using app::test::SmtpServer;
using app::test::SmtpTls;

namespace {
MailerOptions smtp_to(const SmtpServer& server) {
    MailerOptions o;
    o.smtp_url = server.url();
    o.from = "spur-app <noreply@spur.test>";
    o.connect_timeout = std::chrono::seconds(2);
    o.timeout = std::chrono::seconds(5);
    return o;
}

Message hello(std::string to) { return {std::move(to), "Hello", "Line one.\nLine two: http://spur.test/x?token=abc\n"}; }

std::string header(const boost::json::object& mail, const char* name) {
    const auto* v = mail.at("headers").as_object().if_contains(name);
    return v ? std::string(v->as_string()) : std::string();
}

std::filesystem::path temp_dir(const std::string& tag) {
    return std::filesystem::temp_directory_path() / ("spur-mail-" + tag + "-" + std::to_string(::getpid()));
}
}  // namespace

TEST_CASE("compose writes From, To, Subject, Date, Message-ID and a MIME text/plain body with CRLF lines", "[app][mail]") {
    const auto when = std::chrono::system_clock::from_time_t(1751371200);  // 2025-07-01 12:00:00 UTC, a Tuesday
    const std::string raw = compose(hello("ada@example.com"), parse_mailbox("spur-app <noreply@spur.test>"), when);
    CHECK(raw.starts_with("From: spur-app <noreply@spur.test>\r\nTo: ada@example.com\r\nSubject: Hello\r\n"));
    CHECK(raw.find("\r\nDate: Tue, 01 Jul 2025 12:00:00 +0000\r\n") != std::string::npos);
    CHECK(std::regex_search(raw, std::regex("\r\nMessage-ID: <[A-Za-z0-9_-]{24}@spur\\.test>\r\n")));
    CHECK(raw.find("\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: 7bit\r\n\r\nLine one.\r\nLine two: http://spur.test/x?token=abc\r\n") !=
          std::string::npos);
    CHECK(std::regex_search(raw, std::regex("[^\r]\n")) == false);  // no bare LF anywhere
    // Each message has its own id.
    CHECK(compose(hello("a@b.test"), parse_mailbox("x@spur.test"), when).find(raw.substr(raw.find("Message-ID"), 40)) ==
          std::string::npos);
}

TEST_CASE("quoted-printable keeps lines under 76 characters and encodes what is not printable ASCII", "[app][mail]") {
    CHECK(quoted_printable("a=b\n") == "a=3Db\r\n");
    CHECK(quoted_printable("caf\xC3\xA9 \n.dot\nend ") == "caf=C3=A9=20\r\n=2Edot\r\nend=20\r\n");
    const std::string long_line = quoted_printable(std::string(200, 'x'));
    std::size_t at = 0;
    for (std::size_t next; (next = long_line.find("\r\n", at)) != std::string::npos; at = next + 2) CHECK(next - at <= 76);
}

TEST_CASE("a CR or LF in a header value is refused: no header injection", "[app][mail]") {
    const auto from = parse_mailbox("noreply@spur.test");
    const auto now = std::chrono::system_clock::now();
    CHECK_THROWS_AS(compose({"ada@example.com", "Hi\r\nBcc: eve@evil.test", "body"}, from, now), std::invalid_argument);
    CHECK_THROWS_AS(compose({"ada@example.com", "Hi\nBcc: eve@evil.test", "body"}, from, now), std::invalid_argument);
    CHECK_THROWS_AS(compose({"ada@example.com\r\nBcc: eve@evil.test", "Hi", "body"}, from, now), std::invalid_argument);
    CHECK_THROWS_AS(parse_mailbox("x@spur.test\rBcc: eve@evil.test"), std::invalid_argument);
    CHECK_THROWS_AS(parse_mailbox("no address"), std::invalid_argument);
    CHECK_THROWS_AS(parse_mailbox("a@b, eve@evil.test"), std::invalid_argument);
    CHECK(parse_mailbox("spur-app <noreply@spur.test>").address == "noreply@spur.test");
    // The mailer refuses before it connects: nothing is sent.
    MailerOptions o;
    o.smtp_url = "smtp://127.0.0.1:1";
    Mailer mailer(o);
    CHECK_THROWS_AS(mailer.deliver({"ada@example.com", "Hi\r\nBcc: eve@evil.test", "body"}), std::invalid_argument);
}

TEST_CASE("SMTP: the message arrives with its envelope, headers and body, without STARTTLS when none is offered", "[app][mail]") {
    SmtpServer server;  // offers no STARTTLS
    Mailer mailer(smtp_to(server));
    CHECK(mailer.deliver(hello("ada@example.com")) == server.url());
    const auto mail = server.wait_for("ada@example.com").front();
    CHECK(mail.at("mail_from") == "noreply@spur.test");
    CHECK(mail.at("tls") == false);
    CHECK(header(mail, "From") == "spur-app <noreply@spur.test>");
    CHECK(header(mail, "To") == "ada@example.com");
    CHECK(header(mail, "Subject") == "Hello");
    CHECK(header(mail, "MIME-Version") == "1.0");
    CHECK(header(mail, "Content-Type") == "text/plain; charset=\"utf-8\"");
    CHECK(!header(mail, "Date").empty());
    CHECK(header(mail, "Message-ID").ends_with("@spur.test>"));
    CHECK(std::string(mail.at("body").as_string()).find("Line two: http://spur.test/x?token=abc") != std::string::npos);
}

TEST_CASE("SMTP: STARTTLS is used when the server offers it, with the certificate verified, and UTF-8 survives", "[app][mail]") {
    SmtpServer server(SmtpTls::starttls);
    MailerOptions o = smtp_to(server);
    o.ca_file = server.certificate();
    Mailer mailer(o);
    const std::string text = "Grüße, Zoë — " + std::string(100, 'x') + "\n.a line with a dot\n";
    mailer.deliver({"ada@example.com", "Réinitialiser le mot de passe — a long subject that takes two encoded words", text});
    const auto mail = server.wait_for("ada@example.com").front();
    CHECK(mail.at("tls") == true);
    CHECK(mail.at("starttls") == true);
    CHECK(header(mail, "Subject") == "Réinitialiser le mot de passe — a long subject that takes two encoded words");
    CHECK(header(mail, "Content-Transfer-Encoding") == "quoted-printable");
    std::string body(mail.at("body").as_string());
    body.erase(std::remove(body.begin(), body.end(), '\r'), body.end());
    CHECK(body == text);
}

TEST_CASE("SMTP: a certificate nobody vouches for is refused, and so is a server without STARTTLS when TLS is required", "[app][mail]") {
    SmtpServer tls(SmtpTls::starttls);
    Mailer untrusted(smtp_to(tls));  // no CA file: the self-signed certificate is not trusted
    CHECK_THROWS_AS(untrusted.deliver(hello("ada@example.com")), MailError);
    SmtpServer plain;
    MailerOptions o = smtp_to(plain);
    o.require_tls = true;
    Mailer strict(o);
    try {
        strict.deliver(hello("ada@example.com"));
        FAIL("sent without TLS");
    } catch (const MailError& e) {
        CHECK_FALSE(e.permanent());  // the server may offer it later; the operator may fix it
    }
    // Both sessions have ended: had either sent DATA, it would be there.
    CHECK(tls.mails().empty());
    CHECK(plain.mails().empty());
}

TEST_CASE("SMTP: smtps:// speaks TLS from the first byte", "[app][mail]") {
    SmtpServer server(SmtpTls::implicit);
    MailerOptions o = smtp_to(server);
    o.ca_file = server.certificate();
    Mailer mailer(o);
    mailer.deliver(hello("ada@example.com"));
    const auto mail = server.wait_for("ada@example.com").front();
    CHECK(mail.at("tls") == true);
    CHECK(mail.at("starttls") == false);
}

TEST_CASE("SMTP: a 5xx reply is a permanent failure, a refused connection a passing one", "[app][mail]") {
    SmtpServer server;
    Mailer mailer(smtp_to(server));
    try {
        mailer.deliver(hello("reject-me@example.com"));
        FAIL("a refused recipient was accepted");
    } catch (const MailError& e) {
        CHECK(e.permanent());
        CHECK(std::string(e.what()).find("550") != std::string::npos);
    }
    MailerOptions nowhere = smtp_to(server);
    nowhere.smtp_url = "smtp://127.0.0.1:1";
    try {
        Mailer(nowhere).deliver(hello("ada@example.com"));
        FAIL("sent to a closed port");
    } catch (const MailError& e) {
        CHECK_FALSE(e.permanent());
    }
}

TEST_CASE("MAIL_DIR: each mail is a .eml file of mode 600, named to sort by time, and without either mail is off", "[app][mail]") {
    const auto dir = temp_dir("dir") / "nested";  // created when missing
    std::filesystem::remove_all(dir.parent_path());
    MailerOptions o;
    o.mail_dir = dir.string();
    Mailer mailer(o);
    CHECK(mailer.transport() == Mailer::Transport::directory);
    const std::string first = mailer.deliver({"ada@example.com", "First", "one\n"});
    const std::string second = mailer.deliver({"ada@example.com", "Second", "two\n"});
    CHECK(first.starts_with(dir.string() + "/"));
    CHECK(first.ends_with(".eml"));
    CHECK(first < second);
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().string());
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{first, second});  // no partial file left behind
    struct stat st {};
    REQUIRE(::stat(first.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    std::ifstream in(first);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str().starts_with("From: spur-app <noreply@localhost>\r\nTo: ada@example.com\r\nSubject: First\r\n"));
    std::filesystem::remove_all(dir.parent_path());

    Mailer off{MailerOptions{}};
    CHECK(off.transport() == Mailer::Transport::off);
    try {
        off.deliver(hello("ada@example.com"));
        FAIL("mail off sent something");
    } catch (const MailError& e) {
        CHECK(e.permanent());
    }
}
