package io.hayloft.gateway.auth;

import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpResponse;

/**
 * An SDK HTTP client that sends nothing: it keeps each request the S3 client would send, with its body
 * bytes as they would go on the wire, and answers 200 with an empty body.
 */
final class CapturingHttpClient implements SdkHttpClient {
    private final List<SdkSigning.Signed> captured = new ArrayList<>();

    @Override
    public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
        return new ExecutableHttpRequest() {
            @Override
            public HttpExecuteResponse call() {
                byte[] body = request.contentStreamProvider().map(p -> SdkSigning.readAll(p.newStream()))
                        .orElse(new byte[0]);
                synchronized (captured) {
                    captured.add(new SdkSigning.Signed(SdkSigning.toGatewayRequest(request.httpRequest()), body));
                }
                return HttpExecuteResponse.builder()
                        .response(SdkHttpResponse.builder().statusCode(200).build())
                        .responseBody(AbortableInputStream.create(new ByteArrayInputStream(new byte[0])))
                        .build();
            }

            @Override
            public void abort() {
            }
        };
    }

    /** The last request sent, forgetting it and any before. */
    SdkSigning.Signed take() {
        synchronized (captured) {
            SdkSigning.Signed last = captured.getLast();
            captured.clear();
            return last;
        }
    }

    @Override
    public void close() {
    }
}
