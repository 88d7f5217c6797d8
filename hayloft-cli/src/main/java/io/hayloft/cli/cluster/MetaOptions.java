package io.hayloft.cli.cluster;

import io.hayloft.cli.CliException;
import io.hayloft.cli.server.ServerLayout;
import io.hayloft.client.ClientOptions;
import io.hayloft.client.MetaClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * Where the cluster commands find meta: {@code --meta}, else {@code $HAYLOFT_META}, else the
 * meta address of a server whose data directory is {@code ./hayloft-data}, else 127.0.0.1:9101
 * (the address {@code hayloft server} takes by default).
 */
public final class MetaOptions {
    static final String ENV = "HAYLOFT_META";
    static final String DEFAULT_ADDRESS = "127.0.0.1:9101";

    @Option(names = "--meta", paramLabel = "HOST:PORT", split = ",",
            description = "Meta peers' API addresses (default: $HAYLOFT_META, the server in ./hayloft-data, or "
                    + DEFAULT_ADDRESS + ").")
    List<String> meta;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long to look for a meta leader (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    public List<String> addresses() {
        if (meta != null && !meta.isEmpty()) {
            return meta;
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return Arrays.stream(env.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        }
        return localServer().orElse(List.of(DEFAULT_ADDRESS));
    }

    private static Optional<List<String>> localServer() {
        try {
            return ServerLayout.read(Path.of("hayloft-data")).map(l -> List.of(l.metaApiAddress()));
        } catch (IOException | CliException e) {
            return Optional.empty();
        }
    }

    /** A meta client that gives up after the timeout; the caller closes it. */
    public MetaClient connect() {
        if (timeoutSeconds < 1) {
            throw CliException.usage("--timeout must be at least 1 second");
        }
        Duration budget = Duration.ofSeconds(timeoutSeconds);
        return MetaClient.connect(ClientOptions.of(addresses()).withMetaTimeouts(budget, budget));
    }
}
