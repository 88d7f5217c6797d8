package io.hayloft.gateway.auth;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Derives Signature V4 signing keys, {@code HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), "s3"),
 * "aws4_request")}, and keeps them: a key serves every request of one secret, day and region, and
 * deriving it costs four HMACs.
 */
final class SigningKeys {
    private static final int MAX_ENTRIES = 1024;

    private record Key(String secret, String date, String region) {
    }

    private final Map<Key, byte[]> cache = new ConcurrentHashMap<>();

    byte[] get(String secret, CredentialScope scope) {
        Key key = new Key(secret, scope.date(), scope.region());
        byte[] known = cache.get(key);
        if (known != null) {
            return known;
        }
        if (cache.size() >= MAX_ENTRIES) {
            cache.clear();
        }
        byte[] derived = derive(secret, scope);
        cache.put(key, derived);
        return derived;
    }

    static byte[] derive(String secret, CredentialScope scope) {
        byte[] key = Hashing.hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), scope.date());
        key = Hashing.hmac(key, scope.region());
        key = Hashing.hmac(key, CredentialScope.SERVICE);
        return Hashing.hmac(key, CredentialScope.TERMINATOR);
    }
}
