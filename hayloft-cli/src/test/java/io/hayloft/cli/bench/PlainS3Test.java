package io.hayloft.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bench's client against a canned HTTP server on loopback: which answers count as done, and
 * that the connection stays usable after an answer without a body.
 */
class PlainS3Test {

    @Test
    void aPutIsDoneOn200Or201Or204AndAGetOnlyOn200() throws Exception {
        List<String> answers = List.of(
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
                // 204 carries no body and, as nginx sends it, no Content-Length either.
                "HTTP/1.1 204 No Content\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                "HTTP/1.1 204 No Content\r\n\r\n");
        try (CannedServer server = new CannedServer(answers);
                PlainS3 s3 = new PlainS3(server.endpoint(), "ak", "sk", "us-east-1")) {
            s3.put("b", "k1", new byte[] {1, 2, 3});
            s3.put("b", "k2", new byte[] {4});
            s3.put("b", "k3", new byte[0]);
            assertThat(s3.get("b", "k1")).isEqualTo(5);
            assertThatThrownBy(() -> s3.get("b", "k2")).isInstanceOf(IOException.class)
                    .hasMessageContaining("HTTP 204");
            assertThat(server.requests()).containsExactly(
                    "PUT /b/k1", "PUT /b/k2", "PUT /b/k3", "GET /b/k1", "GET /b/k2");
        }
    }

    @Test
    void aPutAnsweredWithAnErrorFails() throws Exception {
        List<String> answers = List.of(
                "HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\ndenied!",
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        try (CannedServer server = new CannedServer(answers);
                PlainS3 s3 = new PlainS3(server.endpoint(), "ak", "sk", "us-east-1")) {
            assertThatThrownBy(() -> s3.put("b", "k", new byte[] {1})).isInstanceOf(IOException.class)
                    .hasMessageContaining("HTTP 403");
            // The failed connection was closed; the next request opens another one.
            s3.put("b", "k", new byte[] {1});
            assertThat(server.requests()).containsExactly("PUT /b/k", "PUT /b/k");
        }
    }

    @Test
    void headLinesSplitAcrossReadsAreJoined() throws Exception {
        // The answer arrives a few bytes at a time, cut inside CR LF and inside header names.
        String answer = "HTTP/1.1 200 OK\r\nServer: Canned\r\nContent-Length: 5\r\n\r\nhello";
        try (ServerSocket server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
                PlainS3 s3 = new PlainS3(URI.create("http://127.0.0.1:" + server.getLocalPort()), "ak", "sk",
                        "us-east-1")) {
            server.setSoTimeout(10_000);
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                try (Socket s = server.accept()) {
                    s.setTcpNoDelay(true);
                    s.setSoTimeout(10_000);
                    InputStream in = s.getInputStream();
                    while (in.read() != '\n') {
                        // the request line is enough: the answer does not depend on the rest
                    }
                    byte[] bytes = answer.getBytes(StandardCharsets.ISO_8859_1);
                    for (int i = 0; i < bytes.length; i += 3) {
                        s.getOutputStream().write(bytes, i, Math.min(3, bytes.length - i));
                        s.getOutputStream().flush();
                        Thread.sleep(2);
                    }
                    s.getInputStream().readNBytes(1); // until the client closes
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(s3.get("b", "k")).isEqualTo(5);
            s3.close();
            serving.get(10, TimeUnit.SECONDS);
        }
    }

    /** Answers each request, over whatever connection it comes, with the next canned answer. */
    private static final class CannedServer implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        private final List<String> answers;
        private final List<String> requests = new ArrayList<>();
        private final CompletableFuture<Void> done;

        CannedServer(List<String> answers) throws IOException {
            this.answers = answers;
            socket.setSoTimeout(10_000);
            done = CompletableFuture.runAsync(this::serve);
        }

        URI endpoint() {
            return URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }

        synchronized List<String> requests() {
            return List.copyOf(requests);
        }

        private void serve() {
            int next = 0;
            while (next < answers.size()) {
                try (Socket s = socket.accept()) {
                    s.setSoTimeout(10_000);
                    InputStream in = new BufferedInputStream(s.getInputStream());
                    OutputStream out = s.getOutputStream();
                    while (next < answers.size()) {
                        String requestLine = readHead(in);
                        if (requestLine == null) {
                            break; // the client closed this connection
                        }
                        out.write(answers.get(next++).getBytes(StandardCharsets.ISO_8859_1));
                        out.flush();
                    }
                } catch (IOException e) {
                    return;
                }
            }
        }

        /** Reads a request's head and body; returns "METHOD /path", or null at the end of the stream. */
        private String readHead(InputStream in) throws IOException {
            String first = line(in);
            if (first == null) {
                return null;
            }
            long length = 0;
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                if (h.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Long.parseLong(h.substring(15).trim());
                }
            }
            in.skipNBytes(length);
            String request = first.substring(0, first.lastIndexOf(' '));
            synchronized (this) {
                requests.add(request);
            }
            return request;
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder b = new StringBuilder();
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) {
                    return null;
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            done.get(10, TimeUnit.SECONDS);
        }
    }
}
