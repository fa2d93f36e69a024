#pragma once
// spur-app's mails as durable jobs: enqueued in the transaction of the request that asks for
// them (the outbox), sent by the job workers of whichever instance claims them.
//
// A job carries the account's id, never a token: the handler makes the token when it runs,
// stores its hash and mails the link. Delivery is at least once, so a job run twice (an
// instance killed after the mail left, before the job was marked done) mails a second link;
// a reset job voids the earlier reset tokens, so only the newest reset link works.

#include "services.hpp"

#include <spur/mysql/connection.hpp>
#include <spur/task.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace app::mail {

inline constexpr std::string_view password_reset_job = "mail.password_reset";
inline constexpr std::string_view verify_email_job = "mail.verify_email";

/// Enqueues the password-reset mail of `user` on `tx`. For an address without an account
/// (nullopt) a job is enqueued too, which finds nobody and sends nothing: the request costs the
/// same either way. Throws spur::mysql::Error.
spur::Task<> enqueue_password_reset(Services& s, spur::mysql::Connection& tx, std::optional<std::uint64_t> user);

/// Enqueues the verification mail of `user` on `tx` (in its transaction: register's outbox).
spur::Task<> enqueue_verification(Services& s, spur::mysql::Connection& tx, std::uint64_t user);
/// The same outside any transaction.
spur::Task<> enqueue_verification(Services& s, std::uint64_t user);

/// `${PUBLIC_URL}${path}?token=${token}` (the token is base64url: nothing to escape).
std::string link(const Config& config, std::string_view path, std::string_view token);

/// Registers the handlers of both kinds on s.jobs (before it serves). A handler throws
/// spur::mysql::PermanentJobError when mail is off or the server refuses the mail for good
/// (the job is dead at once), and other exceptions for what a retry may fix.
void handle_jobs(Services& s);

/// Logs where mail goes (info), or a warning that it is off; a warning too when an SMTP
/// password may cross the network in clear (smtp:// without SMTP_REQUIRE_TLS).
void log_transport(Services& s);

}  // namespace app::mail
