package io.hayloft.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad requests, sent as raw HTTP (a stock SDK refuses to send most of them): each gets S3's XML
 * error with the right code and status, and the gateway goes on serving.
 */
class S3ErrorsTest {
    @TempDir
    static Path dir;
    static GatewayFixture fx;
    static HttpClient http;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        fx = GatewayFixture.start(dir, GatewayFixture.config().withAnonymous(true).withMaxObjectBytes(1 << 20));
        http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        base = fx.gateway.endpoint();
        assertThat(send("PUT", "/errors", "").statusCode()).isEqualTo(200);
    }

    @AfterAll
    static void stop() throws Exception {
        if (fx != null) {
            fx.close();
        }
    }

    static HttpResponse<String> send(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static void expect(HttpResponse<String> r, int status, String code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.body()).as("error body").contains("<Code>" + code + "</Code>").contains("<RequestId>");
        assertThat(r.headers().firstValue("content-type")).hasValue("application/xml");
    }

    @Test
    void invalidBucketNames() throws Exception {
        expect(send("PUT", "/Bad_Name", ""), 400, "InvalidBucketName");
        expect(send("PUT", "/ab", ""), 400, "InvalidBucketName");
        expect(send("PUT", "/a..b", ""), 400, "InvalidBucketName");
        expect(send("PUT", "/192.168.1.1", ""), 400, "InvalidBucketName");
        expect(send("PUT", "/" + "a".repeat(64), ""), 400, "InvalidBucketName");
    }

    @Test
    void missingThings() throws Exception {
        expect(send("GET", "/errors/nope", null), 404, "NoSuchKey");
        expect(send("GET", "/no-such-bucket/k", null), 404, "NoSuchBucket");
        expect(send("GET", "/no-such-bucket", null), 404, "NoSuchBucket");
        expect(send("DELETE", "/no-such-bucket", null), 404, "NoSuchBucket");
        expect(send("GET", "/errors/k?uploadId=nope", null), 404, "NoSuchUpload");
        HttpResponse<String> head = send("HEAD", "/errors/nope", null);
        assertThat(head.statusCode()).isEqualTo(404);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void malformedXmlBodies() throws Exception {
        expect(send("POST", "/errors?delete", "<Delete><Object><Key>a</Key>"), 400, "MalformedXML");
        expect(send("POST", "/errors?delete", ""), 400, "MalformedXML");
        expect(send("POST", "/errors?delete", "<Delete></Delete>"), 400, "MalformedXML");
        expect(send("POST", "/errors?delete", "<Other/>"), 400, "MalformedXML");
        // A document type (the door to external entities) is refused outright.
        expect(send("POST", "/errors?delete", "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
                + "\"file:///etc/passwd\">]><Delete><Object><Key>&x;</Key></Object></Delete>"), 400, "MalformedXML");
        expect(send("POST", "/errors/k?uploadId=x", "not xml"), 400, "MalformedXML");
        expect(send("PUT", "/errors-config", "<CreateBucketConfiguration>"), 400, "MalformedXML");
    }

    @Test
    void badKeysDigestsAndArguments() throws Exception {
        expect(send("PUT", "/errors/" + "k".repeat(1025), "x"), 400, "KeyTooLongError");
        expect(send("PUT", "/errors/digest", "hello", "Content-MD5", "AAAAAAAAAAAAAAAAAAAAAA=="), 400, "BadDigest");
        expect(send("PUT", "/errors/digest", "hello", "Content-MD5", "not base64!"), 400, "InvalidDigest");
        assertThat(send("GET", "/errors/digest", null).statusCode()).as("a refused put leaves nothing").isEqualTo(404);
        expect(send("PUT", "/errors/meta", "x", "x-amz-meta-big", "v".repeat(2100)), 400, "MetadataTooLarge");
        expect(send("GET", "/errors?max-keys=-1", null), 400, "InvalidArgument");
        expect(send("GET", "/errors?max-keys=lots", null), 400, "InvalidArgument");
        expect(send("GET", "/errors?list-type=2&continuation-token=%25%25", null), 400, "InvalidArgument");
        expect(send("GET", "/errors?encoding-type=base64", null), 400, "InvalidArgument");
        expect(send("PUT", "/errors/p?uploadId=x&partNumber=0", "x"), 400, "InvalidArgument");
        expect(send("PUT", "/errors/copy", "", "x-amz-copy-source", "just-a-bucket"), 400, "InvalidArgument");
        expect(send("GET", "/errors?acl", null), 501, "NotImplemented");
        // A sub-resource never acts on the bucket or object it names.
        assertThat(send("PUT", "/errors/tagged", "keep me").statusCode()).isEqualTo(200);
        expect(send("DELETE", "/errors/tagged?tagging", null), 501, "NotImplemented");
        expect(send("PUT", "/errors/tagged?acl", "x"), 501, "NotImplemented");
        assertThat(send("GET", "/errors/tagged", null).body()).isEqualTo("keep me");
        assertThat(send("PUT", "/errors-empty", "").statusCode()).isEqualTo(200);
        expect(send("DELETE", "/errors-empty?cors", null), 501, "NotImplemented");
        expect(send("PUT", "/errors-empty?versioning", "<VersioningConfiguration/>"), 501, "NotImplemented");
        assertThat(send("HEAD", "/errors-empty", null).statusCode()).isEqualTo(200);
        expect(send("POST", "/errors/k", ""), 405, "MethodNotAllowed");
        expect(send("DELETE", "/", null), 405, "MethodNotAllowed");
    }

    @Test
    void rangesPastTheEnd() throws Exception {
        assertThat(send("PUT", "/errors/ten", "0123456789").statusCode()).isEqualTo(200);
        HttpResponse<String> r = send("GET", "/errors/ten", null, "Range", "bytes=10-");
        expect(r, 416, "InvalidRange");
        assertThat(r.headers().firstValue("content-range")).hasValue("bytes */10");
        // Ranges S3 cannot parse are ignored: the whole object comes back.
        assertThat(send("GET", "/errors/ten", null, "Range", "bytes=5-2").body()).isEqualTo("0123456789");
        assertThat(send("GET", "/errors/ten", null, "Range", "bytes=0-1,3-4").body()).isEqualTo("0123456789");
        assertThat(send("GET", "/errors/ten", null, "Range", "bytes=3-4").body()).isEqualTo("34");
    }

    @Test
    void oversizedAndShortBodies() throws Exception {
        // Refused from the declared length, before a byte of the body is read.
        String tooLarge = raw("PUT /errors/huge HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 6000000000\r\n\r\n");
        assertThat(tooLarge).startsWith("HTTP/1.1 400").contains("<Code>EntityTooLarge</Code>");
        // A body that stops short of its declared length, then the connection closes.
        String shortBody = raw("PUT /errors/short HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nonly this");
        assertThat(shortBody).doesNotContain("HTTP/1.1 200");
        if (!shortBody.startsWith("reset")) {
            assertThat(shortBody).startsWith("HTTP/1.1 400").contains("<Code>IncompleteBody</Code>");
        }
        assertThat(send("GET", "/errors/short", null).statusCode()).isEqualTo(404);
        // Chunked transfer without a length is accepted.
        assertThat(raw("PUT /errors/chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n")).startsWith("HTTP/1.1 200");
        assertThat(send("GET", "/errors/chunked", null).body()).isEqualTo("hello");
        // The gateway still serves.
        assertThat(send("GET", "/health", null).statusCode()).isEqualTo(200);
    }

    @Test
    void virtualHostStyleAddressing() throws Exception {
        String put = raw("PUT /photos/cat.jpg HTTP/1.1\r\nHost: errors.localhost:9000\r\nContent-Length: 4\r\n"
                + "Connection: close\r\n\r\nmeow");
        assertThat(put).startsWith("HTTP/1.1 200");
        assertThat(send("GET", "/errors/photos/cat.jpg", null).body()).isEqualTo("meow");
        String get = raw("GET /photos/cat.jpg HTTP/1.1\r\nHost: errors.localhost\r\nConnection: close\r\n\r\n");
        assertThat(get).startsWith("HTTP/1.1 200").endsWith("meow");
        String list = raw("GET /?prefix=photos/ HTTP/1.1\r\nHost: errors.localhost\r\nConnection: close\r\n\r\n");
        assertThat(list).contains("<Name>errors</Name>").contains("<Key>photos/cat.jpg</Key>");
    }

    /** Writes a request, half-closes, and reads whatever comes back within 30 s. */
    private static String raw(String request) throws Exception {
        URI u = URI.create(base);
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(30_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.shutdownOutput();
            InputStream in = s.getInputStream();
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.net.SocketException e) {
                return "reset: " + e.getMessage();
            }
        }
    }
}
