package io.hayloft.cli;

import java.util.Map;

/**
 * The S3 key pair the server accepts and the client commands sign with: from the environment
 * ({@code HAYLOFT_ACCESS_KEY}, {@code HAYLOFT_SECRET_KEY}), or fixed development defaults when
 * neither is set.
 *
 * @param development true when these are the published development defaults
 */
public record Credentials(String accessKey, String secretKey, boolean development) {
    public static final String ACCESS_KEY_ENV = "HAYLOFT_ACCESS_KEY";
    public static final String SECRET_KEY_ENV = "HAYLOFT_SECRET_KEY";
    public static final String DEV_ACCESS_KEY = "hayloft";
    public static final String DEV_SECRET_KEY = "hayloft-secret";

    public static Credentials fromEnvironment() {
        return from(System.getenv());
    }

    /** The key pair this environment gives; both variables or neither must be set. */
    public static Credentials from(Map<String, String> env) {
        // S3 clients trim keys before signing: a stray space from a shell or a file must not
        // make every signature fail.
        String access = env.get(ACCESS_KEY_ENV) == null ? null : env.get(ACCESS_KEY_ENV).strip();
        String secret = env.get(SECRET_KEY_ENV) == null ? null : env.get(SECRET_KEY_ENV).strip();
        boolean hasAccess = access != null && !access.isEmpty();
        boolean hasSecret = secret != null && !secret.isEmpty();
        if (hasAccess != hasSecret) {
            throw CliException.usage("set both " + ACCESS_KEY_ENV + " and " + SECRET_KEY_ENV + ", or neither");
        }
        return hasAccess ? new Credentials(access, secret, false)
                : new Credentials(DEV_ACCESS_KEY, DEV_SECRET_KEY, true);
    }
}
