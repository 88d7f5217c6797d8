package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.hayloft.client.HayloftException;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.Header;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every S3 request enters here: it is authenticated, its bucket and key resolved, dispatched on
 * method and query to {@link BucketApi}, {@link ObjectApi} or {@link MultipartApi}, and any
 * failure is answered with S3's XML error body and status.
 */
final class S3Handler implements Handler, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(S3Handler.class);

    /** Sub-resources of S3 that Hayloft does not implement. */
    private static final Set<String> UNSUPPORTED_SUBRESOURCES = Set.of("acl", "tagging", "policy", "lifecycle", "cors",
            "website", "replication", "encryption", "object-lock", "retention", "legal-hold", "torrent", "restore",
            "select", "notification", "logging", "requestPayment", "accelerate", "analytics", "inventory", "metrics",
            "ownershipControls", "publicAccessBlock", "intelligent-tiering", "versions", "attributes");

    private final GatewayConfig config;
    private final BucketApi buckets;
    private final ObjectApi objects;
    private final MultipartApi multipart;
    private final Authenticator auth;
    private final Probes probes;
    private final Blobs blobs;

    S3Handler(GatewayConfig config, HayloftClient client, ObjectNames names) {
        this.config = config;
        this.blobs = new Blobs(client, config);
        this.buckets = new BucketApi(client);
        this.objects = new ObjectApi(client, names, blobs, config);
        this.multipart = new MultipartApi(client, blobs, config);
        this.auth = new Authenticator(config);
        this.probes = new Probes(client);
    }

    /** Finishes the deletions of blobs let go of by answered requests (for a while; see {@link Reclaimer}). */
    @Override
    public void close() {
        blobs.close();
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        String requestId = Long.toHexString(ThreadLocalRandom.current().nextLong()).toUpperCase(Locale.ROOT);
        res.header("x-amz-request-id", requestId);
        res.header("Server", "Hayloft");
        String rawPath = req.path().rawPath();
        String method = req.prologue().method().text();
        if (method.equals("GET") && (rawPath.equals("/health") || rawPath.equals("/ready")) && isProbe(req)) {
            probes.answer(rawPath.equals("/ready"), res);
            return;
        }
        S3Request s3 = null;
        try {
            Map<String, List<String>> headers = headers(req);
            s3 = S3Request.of(method, rawPath, req.query().rawValue(), headers, config.domains());
            Authenticator.Body body = auth.verify(s3, req.content().inputStream());
            dispatch(s3, body, res);
        } catch (S3Exception e) {
            error(res, s3, e, requestId, method);
        } catch (HayloftException e) {
            error(res, s3, Errors.toS3(e), requestId, method);
        } catch (IOException | UncheckedIOException | DataReader.InsufficientDataAvailableException e) {
            // The client went away or sent a broken body (Helidon says the connection ended
            // mid-entity with its own unchecked exception); if it still listens, it learns so.
            error(res, s3, new S3Exception(S3Error.INCOMPLETE_BODY, String.valueOf(e.getMessage()), e), requestId,
                    method);
        } catch (ServerConnectionException e) {
            // The client went away while the response was being written: nothing more can be sent.
            log.debug("request {} {}: the connection ended: {}", method, rawPath, e.getMessage());
        } catch (RuntimeException e) {
            log.error("request {} {} failed", method, rawPath, e);
            error(res, s3, new S3Exception(S3Error.INTERNAL_ERROR, S3Error.INTERNAL_ERROR.defaultMessage(), e),
                    requestId, method);
        }
    }

    private void dispatch(S3Request r, Authenticator.Body body, ServerResponse res) throws IOException {
        String m = r.method();
        if (r.bucket().isEmpty()) {
            if (m.equals("GET")) {
                buckets.listBuckets(res);
                return;
            }
            throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
        }
        // Checked before any method is dispatched: a DELETE or PUT of a sub-resource (?tagging,
        // ?cors...) must never act on the bucket or object itself.
        if (unsupportedSubresource(r)
                || (!m.equals("GET") && (r.hasQuery("versioning") || r.hasQuery("location")))) {
            throw new S3Exception(S3Error.NOT_IMPLEMENTED);
        }
        if (r.key().isEmpty()) {
            switch (m) {
                case "PUT" -> buckets.create(r, body, res);
                case "DELETE" -> buckets.delete(r, res);
                case "HEAD" -> buckets.head(r, res);
                case "GET" -> {
                    if (r.hasQuery("uploads")) {
                        multipart.listUploads(r, res);
                    } else if (r.hasQuery("location")) {
                        buckets.location(r, res, config.region());
                    } else if (r.hasQuery("versioning")) {
                        buckets.versioning(r, res);
                    } else {
                        buckets.listObjects(r, res);
                    }
                }
                case "POST" -> {
                    if (r.hasQuery("delete")) {
                        objects.deleteObjects(r, body, res);
                    } else {
                        throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
                    }
                }
                default -> throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
            }
            return;
        }
        switch (m) {
            case "PUT" -> {
                if (r.hasQuery("uploadId") || r.hasQuery("partNumber")) {
                    multipart.uploadPart(r, body, res);
                } else if (r.header("x-amz-copy-source") != null) {
                    objects.copy(r, body, res);
                } else {
                    objects.put(r, body, res);
                }
            }
            case "GET" -> {
                if (r.hasQuery("uploadId")) {
                    multipart.listParts(r, res);
                } else {
                    objects.get(r, res, false);
                }
            }
            case "HEAD" -> objects.get(r, res, true);
            case "DELETE" -> {
                if (r.hasQuery("uploadId")) {
                    multipart.abort(r, res);
                } else {
                    objects.delete(r, res);
                }
            }
            case "POST" -> {
                if (r.hasQuery("uploads")) {
                    multipart.create(r, res);
                } else if (r.hasQuery("uploadId")) {
                    multipart.complete(r, body, res);
                } else {
                    throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
                }
            }
            default -> throw new S3Exception(S3Error.METHOD_NOT_ALLOWED);
        }
    }

    /**
     * Unsigned GETs of /health and /ready without a query are probes; a signed one is an S3
     * request for a bucket that happens to be called so.
     */
    private static boolean isProbe(ServerRequest req) {
        return !req.headers().contains(io.helidon.http.HeaderNames.AUTHORIZATION)
                && (req.query().rawValue() == null || req.query().rawValue().isEmpty());
    }

    /** Sub-resources of S3 that Hayloft does not implement (ACLs, tagging, policies...). */
    private static boolean unsupportedSubresource(S3Request r) {
        for (String q : r.query().keySet()) {
            if (UNSUPPORTED_SUBRESOURCES.contains(q)) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, List<String>> headers(ServerRequest req) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Header h : req.headers()) {
            out.computeIfAbsent(h.name().toLowerCase(Locale.ROOT), k -> new ArrayList<>()).addAll(h.allValues());
        }
        return out;
    }

    private static void error(ServerResponse res, S3Request r, S3Exception e, String requestId, String method) {
        if (res.isSent()) {
            // The status line has gone: all that is left is to cut the connection, which the
            // client sees as a short body.
            log.warn("request {} failed after its response started: {}", requestId, e.getMessage());
            throw new UncheckedIOException(new IOException(e.getMessage(), e));
        }
        S3Error code = e.error();
        res.status(code.status());
        if (code == S3Error.NOT_MODIFIED || method.equals("HEAD")) {
            res.send();
            return;
        }
        Xml x = Xml.bareRoot("Error")
                .el("Code", code.code())
                .el("Message", e.getMessage())
                .el("Resource", r == null ? null : r.resource())
                .el("RequestId", requestId);
        if (r != null && !r.bucket().isEmpty()) {
            x.el("BucketName", r.bucket());
        }
        if (r != null && !r.key().isEmpty() && code == S3Error.NO_SUCH_KEY) {
            x.el("Key", r.key());
        }
        res.header("Content-Type", Responses.XML_TYPE);
        res.send(x.toBytes());
    }

    /** Reads a small request body (an XML document), refusing one over {@code max} bytes. */
    static byte[] readSmall(InputStream body, int max) throws IOException {
        byte[] data = body.readNBytes(max + 1);
        if (data.length > max) {
            throw new S3Exception(S3Error.MALFORMED_XML, "the request body is larger than " + max + " bytes");
        }
        return data;
    }
}
