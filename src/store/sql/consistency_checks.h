// Cross-row consistency checks run by Store::CheckConsistency, the same SQL for SQLite and
// PostgreSQL: each query yields one text column, one problem per row, at most
// kMaxProblemsPerCheck + 1 rows. Internal to store/.
#pragma once

namespace coffre::store::sql {

inline constexpr int kMaxProblemsPerCheck = 100;
inline constexpr const char* kConsistencyChecks[] = {
    "SELECT 'key ' || k.vault || '/' || k.name || ' has no versions' FROM keys k "
    "WHERE NOT EXISTS (SELECT 1 FROM key_versions v WHERE v.vault = k.vault AND "
    "v.name_key = k.name_key) ORDER BY k.vault, k.name_key LIMIT 101",
    // Versions are only ever added (sequence = next_sequence, then next_sequence + 1) or purged
    // with their key, so a key's sequences run 1..n and its next sequence is n + 1.
    "SELECT 'key ' || k.vault || '/' || k.name || ': next sequence ' || "
    "CAST(k.next_sequence AS TEXT) || ' does not follow its latest version''s sequence ' || "
    "CAST(MAX(v.sequence) AS TEXT) FROM keys k JOIN key_versions v ON v.vault = k.vault AND "
    "v.name_key = k.name_key GROUP BY k.vault, k.name_key, k.name, k.next_sequence "
    "HAVING k.next_sequence <> MAX(v.sequence) + 1 ORDER BY k.vault, k.name_key LIMIT 101",
    "SELECT 'key ' || k.vault || '/' || k.name || ' has ' || CAST(COUNT(*) AS TEXT) || "
    "' versions with sequences ' || CAST(MIN(v.sequence) AS TEXT) || ' to ' || "
    "CAST(MAX(v.sequence) AS TEXT) || ': versions are missing' FROM keys k JOIN key_versions v "
    "ON v.vault = k.vault AND v.name_key = k.name_key GROUP BY k.vault, k.name_key, k.name "
    "HAVING MIN(v.sequence) <> 1 OR COUNT(*) <> MAX(v.sequence) "
    "ORDER BY k.vault, k.name_key LIMIT 101",
    "SELECT 'version ' || v.vault || '/' || v.name_key || '/' || v.version || "
    "' belongs to no key' FROM key_versions v WHERE NOT EXISTS (SELECT 1 FROM keys k "
    "WHERE k.vault = v.vault AND k.name_key = v.name_key) "
    "ORDER BY v.vault, v.name_key, v.sequence LIMIT 101",
    "SELECT 'key ' || v.vault || '/' || v.name_key || ' has versions in vault ' || v.vault || "
    "', which does not exist' FROM key_versions v WHERE NOT EXISTS (SELECT 1 FROM vaults a "
    "WHERE a.name = v.vault) GROUP BY v.vault, v.name_key ORDER BY v.vault, v.name_key LIMIT 101",
    "SELECT 'key ' || k.vault || '/' || k.name || ' is in vault ' || k.vault || "
    "', which does not exist' FROM keys k WHERE NOT EXISTS (SELECT 1 FROM vaults a "
    "WHERE a.name = k.vault) ORDER BY k.vault, k.name_key LIMIT 101",
    "SELECT 'version ' || v.vault || '/' || v.name_key || '/' || v.version || ' has sequence ' || "
    "CAST(v.sequence AS TEXT) || ', below 1' FROM key_versions v WHERE v.sequence < 1 "
    "ORDER BY v.vault, v.name_key, v.sequence LIMIT 101",
    "SELECT 'key ' || k.vault || '/' || k.name || ' is filed under the name ' || k.name_key "
    "FROM keys k WHERE k.name_key <> lower(k.name) ORDER BY k.vault, k.name_key LIMIT 101",
    "SELECT 'key ' || k.vault || '/' || k.name || ' has a deletion date without a purge date "
    "or the other way round' FROM keys k WHERE (k.deleted_date IS NULL) <> "
    "(k.scheduled_purge_date IS NULL) ORDER BY k.vault, k.name_key LIMIT 101",
    "SELECT 'rotation policy of ' || p.vault || '/' || p.name_key || ' belongs to no key' "
    "FROM rotation_policies p WHERE NOT EXISTS (SELECT 1 FROM keys k WHERE k.vault = p.vault "
    "AND k.name_key = p.name_key) ORDER BY p.vault, p.name_key LIMIT 101",
    "SELECT 'event ' || e.kind || ' of ' || e.vault || '/' || e.name_key || '/' || e.version || "
    "' belongs to no key' FROM key_events e WHERE NOT EXISTS (SELECT 1 FROM keys k "
    "WHERE k.vault = e.vault AND k.name_key = e.name_key) ORDER BY e.id LIMIT 101",
    // Secrets keep the same invariants as keys.
    "SELECT 'secret ' || s.vault || '/' || s.name || ' has no versions' FROM secrets s "
    "WHERE NOT EXISTS (SELECT 1 FROM secret_versions v WHERE v.vault = s.vault AND "
    "v.name_key = s.name_key) ORDER BY s.vault, s.name_key LIMIT 101",
    "SELECT 'secret ' || s.vault || '/' || s.name || ': next sequence ' || "
    "CAST(s.next_sequence AS TEXT) || ' does not follow its latest version''s sequence ' || "
    "CAST(MAX(v.sequence) AS TEXT) FROM secrets s JOIN secret_versions v ON v.vault = s.vault "
    "AND v.name_key = s.name_key GROUP BY s.vault, s.name_key, s.name, s.next_sequence "
    "HAVING s.next_sequence <> MAX(v.sequence) + 1 ORDER BY s.vault, s.name_key LIMIT 101",
    "SELECT 'secret ' || s.vault || '/' || s.name || ' has ' || CAST(COUNT(*) AS TEXT) || "
    "' versions with sequences ' || CAST(MIN(v.sequence) AS TEXT) || ' to ' || "
    "CAST(MAX(v.sequence) AS TEXT) || ': versions are missing' FROM secrets s "
    "JOIN secret_versions v ON v.vault = s.vault AND v.name_key = s.name_key "
    "GROUP BY s.vault, s.name_key, s.name HAVING MIN(v.sequence) <> 1 OR "
    "COUNT(*) <> MAX(v.sequence) ORDER BY s.vault, s.name_key LIMIT 101",
    "SELECT 'secret version ' || v.vault || '/' || v.name_key || '/' || v.version || "
    "' belongs to no secret' FROM secret_versions v WHERE NOT EXISTS (SELECT 1 FROM secrets s "
    "WHERE s.vault = v.vault AND s.name_key = v.name_key) "
    "ORDER BY v.vault, v.name_key, v.sequence LIMIT 101",
    "SELECT 'secret ' || s.vault || '/' || s.name || ' is in vault ' || s.vault || "
    "', which does not exist' FROM secrets s WHERE NOT EXISTS (SELECT 1 FROM vaults a "
    "WHERE a.name = s.vault) ORDER BY s.vault, s.name_key LIMIT 101",
    "SELECT 'secret ' || s.vault || '/' || s.name || ' is filed under the name ' || s.name_key "
    "FROM secrets s WHERE s.name_key <> lower(s.name) ORDER BY s.vault, s.name_key LIMIT 101",
    "SELECT 'secret ' || s.vault || '/' || s.name || ' has a deletion date without a purge "
    "date or the other way round' FROM secrets s WHERE (s.deleted_date IS NULL) <> "
    "(s.scheduled_purge_date IS NULL) ORDER BY s.vault, s.name_key LIMIT 101",
    // A certificate owns the key and secret of its name: each version has both, and all three
    // are deleted or active together.
    "SELECT 'certificate version ' || v.vault || '/' || v.name_key || '/' || v.version || "
    "' has no key version ' || v.key_version FROM certificate_versions v WHERE NOT EXISTS "
    "(SELECT 1 FROM key_versions k WHERE k.vault = v.vault AND k.name_key = v.name_key AND "
    "k.version = v.key_version) ORDER BY v.vault, v.name_key, v.sequence LIMIT 101",
    "SELECT 'certificate version ' || v.vault || '/' || v.name_key || '/' || v.version || "
    "' has no secret version ' || v.secret_version FROM certificate_versions v WHERE NOT EXISTS "
    "(SELECT 1 FROM secret_versions s WHERE s.vault = v.vault AND s.name_key = v.name_key AND "
    "s.version = v.secret_version) ORDER BY v.vault, v.name_key, v.sequence LIMIT 101",
    "SELECT 'certificate ' || c.vault || '/' || c.name || ' and its key or secret differ in "
    "deletion state' FROM certificates c JOIN keys k ON k.vault = c.vault AND "
    "k.name_key = c.name_key JOIN secrets s ON s.vault = c.vault AND s.name_key = c.name_key "
    "WHERE (c.deleted_date IS NULL) <> (k.deleted_date IS NULL) OR "
    "(c.deleted_date IS NULL) <> (s.deleted_date IS NULL) ORDER BY c.vault, c.name_key LIMIT 101",
    "SELECT 'certificate ' || c.vault || '/' || c.name || ': next sequence ' || "
    "CAST(c.next_sequence AS TEXT) || ' does not follow its latest version''s sequence ' || "
    "CAST(MAX(v.sequence) AS TEXT) FROM certificates c JOIN certificate_versions v ON "
    "v.vault = c.vault AND v.name_key = c.name_key GROUP BY c.vault, c.name_key, c.name, "
    "c.next_sequence HAVING c.next_sequence <> MAX(v.sequence) + 1 "
    "ORDER BY c.vault, c.name_key LIMIT 101",
    "SELECT 'access policy of ' || p.object_id || ' is in vault ' || p.vault || "
    "', which does not exist' FROM access_policies p WHERE NOT EXISTS (SELECT 1 FROM vaults a "
    "WHERE a.name = p.vault) ORDER BY p.vault, p.object_id LIMIT 101",
};

}  // namespace coffre::store::sql
