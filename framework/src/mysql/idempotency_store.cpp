#include <spur/mysql/idempotency_store.hpp>

#include <spur/http_error.hpp>
#include <spur/random.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <optional>
#include <stdexcept>

namespace spur::mysql {

namespace {
using middleware::IdempotencyBegin;
using middleware::StoredResponse;
using Outcome = IdempotencyBegin::Outcome;

// The row's states, as the SQL below writes them: 0 running, 1 applied, 2 answered.
constexpr int applied = 1;
constexpr int answered = 2;

// A MEDIUMBLOB's and a BLOB's size: a larger sealed answer is kept as applied, without it.
constexpr std::size_t max_body = (std::size_t{1} << 24) - 1;
constexpr std::size_t max_headers = (std::size_t{1} << 16) - 1;
// Answers up to this many sealed bytes are always kept; larger ones count against the scope's
// IdempotencyStoreOptions::max_answer_bytes_per_scope.
constexpr std::size_t small_answer = 4 * 1024;

std::string checked_table(std::string table) {
    if (table.empty() || table.size() > 64) throw std::invalid_argument("idempotency store: invalid table name");
    for (char c : table)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            throw std::invalid_argument("idempotency store: invalid table name \"" + table + "\"");
    return table;
}

std::string ddl(const std::string& table) {
    return "CREATE TABLE IF NOT EXISTS " + table +
           " (scope_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " key_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " fingerprint CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " claim VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,"
           " state TINYINT NOT NULL,"  // 0 running, 1 applied, 2 answered
           " locked_until DATETIME(3) NOT NULL, expires_at DATETIME(3) NOT NULL,"
           " status SMALLINT NULL, headers BLOB NULL, body MEDIUMBLOB NULL,"
           " PRIMARY KEY (scope_hash, key_hash), KEY expires_at (expires_at)) ENGINE=InnoDB";
}

std::string sha256_hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < size; ++i) {
        out += digits[digest[i] >> 4];
        out += digits[digest[i] & 0xf];
    }
    return out;
}

std::int64_t microseconds(std::chrono::microseconds d) { return d.count(); }

// Kept answers are sealed with AES-256-GCM under a key derived from the client's own scope and
// Idempotency-Key, which the table never holds (only their SHA-256): an answer may carry a
// secret shown once (a new API key, a fresh token), and a reader of the table or of a backup
// then finds only ciphertext. Only a request that presents the key opens it. The row's hashes
// and the column are the associated data, so a sealed value opens nowhere else.
// Layout: version (1) | nonce (12) | ciphertext | tag (16).
constexpr unsigned char sealed_version = 1;
constexpr std::size_t nonce_size = 12, tag_size = 16;
constexpr std::size_t sealed_overhead = 1 + nonce_size + tag_size;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string answer_key(std::string_view scope, std::string_view key) {
    // Length-prefixed and labelled: never equal to the key_hash column, SHA-256(key).
    std::string input = "spur idempotency answer\n" + std::to_string(scope.size()) + ":";
    input.append(scope).append(std::to_string(key.size()) + ":").append(key);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha256(), nullptr) != 1 || size != 32)
        throw std::runtime_error("SHA-256 failed");
    return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string seal(const std::string& aes_key, std::string_view aad, std::string_view plain) {
    std::string out(sealed_overhead + plain.size(), '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    bytes[0] = sealed_version;
    if (RAND_bytes(bytes + 1, static_cast<int>(nonce_size)) != 1) throw std::runtime_error("no random bytes for a nonce");
    CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int n = 0;
    const auto* k = reinterpret_cast<const unsigned char*>(aes_key.data());
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, bytes + 1) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), bytes + 1 + nonce_size, &n, reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), bytes + 1 + nonce_size + n, &n) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag_size), bytes + out.size() - tag_size) != 1)
        throw std::runtime_error("AES-256-GCM failed");
    return out;
}

// nullopt when `sealed` does not open under the key: edited, kept in clear, or another row's.
std::optional<std::string> unseal(const std::string& aes_key, std::string_view aad, std::string_view sealed) {
    if (sealed.size() < sealed_overhead || static_cast<unsigned char>(sealed[0]) != sealed_version) return std::nullopt;
    const auto* bytes = reinterpret_cast<const unsigned char*>(sealed.data());
    const std::size_t length = sealed.size() - sealed_overhead;
    std::string plain(length, '\0');
    std::string tag(sealed.substr(sealed.size() - tag_size));
    CipherContext ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int n = 0;
    const auto* k = reinterpret_cast<const unsigned char*>(aes_key.data());
    auto* out = reinterpret_cast<unsigned char*>(plain.data());
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, bytes + 1) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), out, &n, bytes + 1 + nonce_size, static_cast<int>(length)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_size), tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), out + n, &n) != 1)
        return std::nullopt;
    return plain;
}

std::string aad_of(std::string_view column, const std::string& scope_hash, const std::string& key_hash) {
    return std::string(column) + ":" + scope_hash + ":" + key_hash;
}

// Headers as "<length>:<name><length>:<value>…": any byte survives (header values need not
// be UTF-8, which JSON text would ask for).
std::string encode_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
    std::string out;
    for (const auto& [name, value] : headers) {
        out += std::to_string(name.size()) + ":" + name;
        out += std::to_string(value.size()) + ":" + value;
    }
    return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> decode_headers(std::string_view in) {
    std::vector<std::string> parts;
    while (!in.empty()) {
        const auto colon = in.find(':');
        if (colon == std::string_view::npos || colon == 0 || colon > 9) return std::nullopt;
        std::size_t length = 0;
        for (char c : in.substr(0, colon)) {
            if (c < '0' || c > '9') return std::nullopt;
            length = length * 10 + static_cast<std::size_t>(c - '0');
        }
        in.remove_prefix(colon + 1);
        if (length > in.size()) return std::nullopt;
        parts.emplace_back(in.substr(0, length));
        in.remove_prefix(length);
    }
    if (parts.size() % 2 != 0) return std::nullopt;
    std::vector<std::pair<std::string, std::string>> headers;
    for (std::size_t i = 0; i < parts.size(); i += 2) headers.emplace_back(std::move(parts[i]), std::move(parts[i + 1]));
    return headers;
}

IdempotencyBegin outcome(Outcome o, std::string claim = {}) {
    IdempotencyBegin b;
    b.outcome = o;
    b.claim = std::move(claim);
    return b;
}
}  // namespace

IdempotencyStore::IdempotencyStore(Pool& pool, IdempotencyStoreOptions options)
    : pool_(pool), table_(checked_table(std::move(options.table))), max_answer_bytes_per_scope_(options.max_answer_bytes_per_scope) {}

Migration IdempotencyStore::migration(int version, IdempotencyStoreOptions options) {
    auto table = checked_table(std::move(options.table));
    return Migration{version, "create_" + table, ddl(table)};
}

Task<> IdempotencyStore::create_table() { co_await pool_.query(ddl(table_)); }

Task<std::uint64_t> IdempotencyStore::purge_expired(std::uint32_t batch) {
    const auto sql = "DELETE FROM " + table_ + " WHERE expires_at <= UTC_TIMESTAMP(3) LIMIT " + std::to_string(batch);
    std::uint64_t total = 0;
    for (;;) {
        auto r = co_await pool_.execute(mysql::idempotent, sql);
        total += r.affected_rows;
        if (r.affected_rows < batch) co_return total;
    }
}

Task<IdempotencyBegin> IdempotencyStore::begin(std::string scope, std::string key, std::string fingerprint,
                                               std::chrono::milliseconds lock, std::chrono::seconds ttl) {
    const auto scope_hash = sha256_hex(scope);
    const auto key_hash = sha256_hex(key);
    const auto lock_us = microseconds(lock);
    const auto ttl_us = microseconds(ttl);
    // Each round either decides, or saw the row change under it (deleted, taken over): a few
    // rounds settle any race, and one that still loses them all finds the key busy.
    for (int round = 0; round < 3; ++round) {
        auto claim = random_token(16);
        bool taken = false;
        try {
            co_await pool_.execute("INSERT INTO " + table_ +
                                       " (scope_hash, key_hash, fingerprint, claim, state, locked_until, expires_at) VALUES"
                                       " (?, ?, ?, ?, 0, UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND,"
                                       " UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND)",
                                   scope_hash, key_hash, fingerprint, claim, lock_us, ttl_us);
            taken = true;
        } catch (const Error& e) {
            // Galera: another node's INSERT of this key certified first — it holds the key.
            if (e.transaction_conflict()) co_return outcome(Outcome::in_flight);
            if (!e.duplicate_key()) throw;
        }
        if (taken) co_return outcome(Outcome::started, std::move(claim));

        auto rows = co_await pool_.execute(mysql::idempotent,
                                           "SELECT fingerprint, claim, state, locked_until <= UTC_TIMESTAMP(3) AS lock_passed,"
                                           " expires_at <= UTC_TIMESTAMP(3) AS expired, status, headers, body FROM " +
                                               table_ + " WHERE scope_hash = ? AND key_hash = ?",
                                           scope_hash, key_hash);
        if (rows.empty()) continue;  // released or purged meanwhile: insert again
        const auto& row = rows.front();
        const auto old_claim = row.get<std::string>("claim");
        const bool expired = row.get<bool>("expired");
        const auto state = row.get<int>("state");
        if (!expired && row.get<std::string>("fingerprint") != fingerprint) co_return outcome(Outcome::mismatch);
        if (!expired && state == answered) {
            const std::string aes_key = answer_key(scope, key);
            auto headers_text = unseal(aes_key, aad_of("headers", scope_hash, key_hash), row.get<std::optional<std::string>>("headers").value_or(""));
            auto body = unseal(aes_key, aad_of("body", scope_hash, key_hash), row.get<std::optional<std::string>>("body").value_or(""));
            auto headers = headers_text ? decode_headers(*headers_text) : std::nullopt;
            // A row that does not open or read (edited, or kept in clear by an older version):
            // its effect happened, its answer is gone.
            if (!headers || !body) co_return outcome(Outcome::applied_without_response);
            IdempotencyBegin b = outcome(Outcome::replay);
            b.response = StoredResponse{row.get<int>("status"), std::move(*headers), std::move(*body)};
            co_return b;
        }
        if (!expired && state == applied) co_return outcome(Outcome::applied_without_response);
        if (!expired && !row.get<bool>("lock_passed")) co_return outcome(Outcome::in_flight);

        // Expired, or running past its lock (its instance is taken for crashed): take it over
        // if the claim is still the one read — a compare-and-set that one request alone wins.
        // An expired row starts afresh; a running one keeps its state, so that an applied_in()
        // committed meanwhile wins over this.
        Result r;
        try {
            if (expired) {
                r = co_await pool_.execute("UPDATE " + table_ +
                                               " SET fingerprint = ?, claim = ?, state = 0,"
                                               " locked_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND,"
                                               " expires_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND,"
                                               " status = NULL, headers = NULL, body = NULL"
                                               " WHERE scope_hash = ? AND key_hash = ? AND claim = ? AND expires_at <= UTC_TIMESTAMP(3)",
                                           fingerprint, claim, lock_us, ttl_us, scope_hash, key_hash, old_claim);
            } else {
                r = co_await pool_.execute("UPDATE " + table_ +
                                               " SET claim = ?, locked_until = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND,"
                                               " expires_at = UTC_TIMESTAMP(3) + INTERVAL ? MICROSECOND"
                                               " WHERE scope_hash = ? AND key_hash = ? AND claim = ? AND state = 0"
                                               " AND locked_until <= UTC_TIMESTAMP(3)",
                                           claim, lock_us, ttl_us, scope_hash, key_hash, old_claim);
            }
        } catch (const Error& e) {
            if (e.transaction_conflict()) co_return outcome(Outcome::in_flight);  // another node's takeover won
            throw;
        }
        if (r.affected_rows == 1) co_return outcome(Outcome::started, std::move(claim));
    }
    co_return outcome(Outcome::in_flight);
}

Task<> IdempotencyStore::complete(std::string scope, std::string key, std::string claim, StoredResponse response) {
    std::string headers = encode_headers(response.headers);
    if (response.body.size() > max_body - sealed_overhead || headers.size() > max_headers - sealed_overhead) {
        Task<> without = complete_without_response(std::move(scope), std::move(key), std::move(claim));
        co_await std::move(without);
        co_return;
    }
    const auto scope_hash = sha256_hex(scope);
    const auto key_hash = sha256_hex(key);
    const std::string aes_key = answer_key(scope, key);
    std::string sealed_headers = seal(aes_key, aad_of("headers", scope_hash, key_hash), headers);
    std::string sealed_body = seal(aes_key, aad_of("body", scope_hash, key_hash), response.body);
    if (sealed_body.size() > small_answer) {
        // The scope's large answers held now (at most about its budget: each such check reads
        // no more). Concurrent completions may pass it together by an answer each.
        auto held = co_await pool_.execute(mysql::idempotent,
                                           "SELECT CAST(COALESCE(SUM(LENGTH(body)), 0) AS UNSIGNED) FROM " + table_ +
                                               " WHERE scope_hash = ? AND state = 2 AND expires_at > UTC_TIMESTAMP(3) AND LENGTH(body) > ?",
                                           scope_hash, static_cast<std::uint64_t>(small_answer));
        const auto used = held.empty() ? 0 : held.front().get<std::uint64_t>(0);
        if (used + sealed_body.size() > max_answer_bytes_per_scope_) {
            Task<> without = complete_without_response(std::move(scope), std::move(key), std::move(claim));
            co_await std::move(without);
            co_return;
        }
    }
    // Absolute values under the claim: safe to run again when the connection is lost.
    co_await pool_.execute(mysql::idempotent,
                           "UPDATE " + table_ + " SET state = 2, status = ?, headers = ?, body = ?"
                                                " WHERE scope_hash = ? AND key_hash = ? AND claim = ?",
                           response.status, Blob(std::move(sealed_headers)), Blob(std::move(sealed_body)), scope_hash,
                           key_hash, claim);
}

Task<> IdempotencyStore::complete_without_response(std::string scope, std::string key, std::string claim) {
    co_await pool_.execute(mysql::idempotent,
                           "UPDATE " + table_ + " SET state = 1, status = NULL, headers = NULL, body = NULL"
                                                " WHERE scope_hash = ? AND key_hash = ? AND claim = ?",
                           sha256_hex(scope), sha256_hex(key), claim);
}

Task<> IdempotencyStore::release(std::string scope, std::string key, std::string claim) {
    // state = 0: a key whose effect was applied (applied_in committed) is kept.
    co_await pool_.execute(mysql::idempotent,
                           "DELETE FROM " + table_ + " WHERE scope_hash = ? AND key_hash = ? AND claim = ? AND state = 0",
                           sha256_hex(scope), sha256_hex(key), claim);
}

Task<> IdempotencyStore::applied_in(Connection& tx, const Request& req) {
    const auto* held = middleware::idempotency_claim(req);
    if (!held) co_return;
    // The row is locked until tx ends, so a takeover waits for it (or, on another Galera
    // node, loses certification to it) and then finds the key applied.
    auto r = co_await tx.execute("UPDATE " + table_ +
                                     " SET state = 1 WHERE scope_hash = ? AND key_hash = ? AND claim = ? AND state IN (0, 1)",
                                 sha256_hex(held->scope), sha256_hex(held->key), held->claim);
    if (r.affected_rows != 1)
        throw HttpError(409, "idempotency_key_in_use",
                        "This request's idempotency key was taken over by a retry; the retry's answer counts")
            .with_header("Retry-After", "1");
}

}  // namespace spur::mysql
