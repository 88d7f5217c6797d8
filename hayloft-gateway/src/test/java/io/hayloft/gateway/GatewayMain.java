package io.hayloft.gateway;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs {@link GatewayFixture} in a process of its own, so that a test can cap that process's
 * heap. Writes the endpoint to the file named by its second argument, then serves until stdin
 * closes.
 */
public final class GatewayMain {
    private GatewayMain() {}

    public static void main(String[] args) throws Exception {
        try (GatewayFixture fx = GatewayFixture.start(Path.of(args[0]), GatewayFixture.config().withChunkBytes(4 << 20))) {
            Path tmp = Path.of(args[1] + ".tmp");
            Files.writeString(tmp, fx.gateway.endpoint());
            Files.move(tmp, Path.of(args[1]));
            while (System.in.read() >= 0) {
                // serve until the parent closes our stdin (or dies)
            }
        }
        System.exit(0);
    }
}
