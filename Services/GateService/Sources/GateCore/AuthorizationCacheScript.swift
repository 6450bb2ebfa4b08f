/// The Lua scripts of the gate's Redis cache contract.
///
/// Every writer of `sa:v1:*` keys (gate cache fills, the inbox's
/// write-through and outbox) writes through ``compareAndSet`` and nothing
/// else: a plain SET or DEL could let an older read replace a newer decision
/// (the "new enemy" problem). Load it with `SCRIPT LOAD` and call `EVALSHA`,
/// falling back to `EVAL` on `NOSCRIPT` (after a Redis restart or failover).
public enum AuthorizationCacheScript {
    /// Writes an authorization entry unless Redis holds one at least as new.
    ///
    /// - `KEYS[1]`: the key (``AuthorizationCacheKey/make(seller:product:)``).
    /// - `ARGV[1]`: the entry's version, decimal without leading zeros.
    /// - `ARGV[2]`: the entry (``AuthorizationCacheEntry/encoded``), which
    ///   must begin with `ARGV[1]` and `|`.
    /// - `ARGV[3]`: the TTL in milliseconds, a positive integer (``CacheTTL``).
    ///
    /// Returns `{written, sequence}`. `written` is `0` when it kept the
    /// stored entry because its version is equal or newer; `sequence` is then
    /// the current ``CacheCoherence/sequenceKey`` (0 when none), at least that
    /// of the write that stored what Redis holds. When it wrote the entry
    /// (with the TTL), `written` is `1` and it also announces the change to
    /// the gates' local copies (``CacheCoherence``) in the same atomic step:
    /// it increments ``CacheCoherence/sequenceKey``, publishes
    /// `<sequence> <key>` on ``CacheCoherence/channel`` and returns that
    /// sequence. Either way a writer that waits for the gates to acknowledge
    /// `sequence` knows they dropped every copy older than what Redis holds. Equal versions
    /// carry the same data (a version names one transition), so rewriting
    /// would only extend the TTL of what is already there. A stored value
    /// whose version cannot be read is corrupt and is replaced. Malformed
    /// arguments are an error reply starting `ERR sa-cas:` and write nothing.
    ///
    /// Versions are compared as decimal strings (length, then digits), so
    /// the whole `Int64` range compares exactly; Lua's numbers are doubles
    /// and would not.
    public static let compareAndSet = """
        local new = ARGV[1]
        if not string.match(new, '^%d+$') or (#new > 1 and string.sub(new, 1, 1) == '0') then
          return redis.error_reply('ERR sa-cas: ARGV[1] must be a decimal version without leading zeros')
        end
        if string.sub(ARGV[2], 1, #new + 1) ~= new .. '|' then
          return redis.error_reply('ERR sa-cas: ARGV[2] must start with the version and |')
        end
        if not string.match(ARGV[3], '^[1-9]%d*$') then
          return redis.error_reply('ERR sa-cas: ARGV[3] must be a positive TTL in milliseconds')
        end
        local current = redis.call('GET', KEYS[1])
        if current then
          local old = string.match(current, '^(%d+)|')
          if old and not (#old > 1 and string.sub(old, 1, 1) == '0') then
            if #old > #new or (#old == #new and old >= new) then
              return {0, tonumber(redis.call('GET', '\(CacheCoherence.sequenceKey)') or '0')}
            end
          end
        end
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        local sequence = redis.call('INCR', '\(CacheCoherence.sequenceKey)')
        redis.call('PUBLISH', '\(CacheCoherence.channel)', string.format('%d', sequence) .. ' ' .. KEYS[1])
        return {1, sequence}
        """
}
