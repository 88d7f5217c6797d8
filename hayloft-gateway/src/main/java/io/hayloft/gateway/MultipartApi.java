package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.helidon.webserver.http.ServerResponse;

final class MultipartApi {
    MultipartApi(HayloftClient client, Blobs blobs, GatewayConfig config) {}
    void create(S3Request r, ServerResponse res) { throw new S3Exception(S3Error.NOT_IMPLEMENTED); }
    void uploadPart(S3Request r, Authenticator.Body body, ServerResponse res) { throw new S3Exception(S3Error.NOT_IMPLEMENTED); }
    void complete(S3Request r, Authenticator.Body body, ServerResponse res) { throw new S3Exception(S3Error.NOT_IMPLEMENTED); }
    void abort(S3Request r, ServerResponse res) { throw new S3Exception(S3Error.NOT_IMPLEMENTED); }
    void listParts(S3Request r, ServerResponse res) { throw new S3Exception(S3Error.NOT_IMPLEMENTED); }
    void listUploads(S3Request r, ServerResponse res) { throw new S3Exception(S3Error.NOT_IMPLEMENTED); }
}
