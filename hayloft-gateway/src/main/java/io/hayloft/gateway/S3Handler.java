package io.hayloft.gateway;

import io.hayloft.client.HayloftClient;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;

/** Every S3 request enters here. */
final class S3Handler implements Handler {
    private final GatewayConfig config;
    private final HayloftClient client;

    S3Handler(GatewayConfig config, HayloftClient client) {
        this.config = config;
        this.client = client;
    }

    @Override
    public void handle(ServerRequest req, ServerResponse res) {
        String path = req.path().rawPath();
        if (path.equals("/health") || path.equals("/ready")) {
            res.send("ok\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        res.status(501).send();
    }
}
