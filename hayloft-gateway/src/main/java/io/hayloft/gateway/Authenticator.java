package io.hayloft.gateway;

import io.hayloft.gateway.auth.Authentication;
import io.hayloft.gateway.auth.SigV4Verifier;
import io.hayloft.gateway.auth.SignedRequest;
import java.io.InputStream;
import java.time.Clock;

/**
 * Checks who sent a request (AWS Signature V4 in the Authorization header or in a presigned URL)
 * and hands out its body as the client meant it: aws-chunked bodies decoded with each chunk's
 * signature checked, and signed payloads checked against their SHA-256 as they are read.
 */
final class Authenticator {
    /** A request body: the payload stream and its length when the client declared it, else -1. */
    record Body(InputStream in, long length) {}

    private final SigV4Verifier verifier;

    Authenticator(GatewayConfig config) {
        this.verifier = new SigV4Verifier(config.credentials(), config.anonymous(), Clock.systemUTC());
    }

    Body verify(S3Request r, InputStream raw) {
        Authentication auth = verifier.verify(new SignedRequest(r.method(), r.rawPath(),
                r.rawQuery() == null ? "" : r.rawQuery(), r.headers()));
        return new Body(auth.body(raw), auth.decodedLength());
    }
}
