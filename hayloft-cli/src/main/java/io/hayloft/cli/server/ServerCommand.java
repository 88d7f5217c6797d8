package io.hayloft.cli.server;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Credentials;
import io.hayloft.cli.Foreground;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hayloft server}: the whole of Hayloft in one process (one meta peer, N stores, an S3
 * gateway), on a data directory that a later start picks up again.
 */
@Command(name = "server", description = {
    "Run Hayloft in one process: one meta peer, N stores (rf = min(3, N)) and an S3 gateway.",
    "Restarting with the same --dir keeps every object; the internal ports are kept in DIR/server.properties.",
    "Credentials come from HAYLOFT_ACCESS_KEY and HAYLOFT_SECRET_KEY (development defaults when unset)."})
public final class ServerCommand implements Callable<Integer> {
    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "hayloft-data",
            description = "Data directory (default: ./${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "9000",
            description = "S3 port (default: ${DEFAULT-VALUE}); meta and stores use ports derived from it at the first start.")
    int port;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "Address the S3 gateway binds (default: ${DEFAULT-VALUE}; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--stores", paramLabel = "N",
            description = "Number of stores (default: as many as DIR holds, 3 for a new DIR).")
    int stores;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw CliException.usage("--port must be 0 to 65535");
        }
        if (stores < 0) {
            throw CliException.usage("--stores must be positive");
        }
        Credentials credentials = Credentials.fromEnvironment();
        PrintWriter out = spec.commandLine().getOut();
        out.println("Starting Hayloft in " + dir.toAbsolutePath() + " ...");
        out.flush();
        OneProcessServer server = OneProcessServer.start(new OneProcessServer.Settings(dir, host, port, stores,
                credentials));
        describe(server, credentials, out);
        Foreground.run(server, spec.commandLine().getErr());
        out.println("Hayloft stopped.");
        out.flush();
        return 0;
    }

    private static void describe(OneProcessServer s, Credentials c, PrintWriter out) {
        ServerLayout l = s.layout();
        out.println("Hayloft is running.");
        out.printf("  S3 endpoint  %s%n", s.endpoint());
        out.printf("  data         %s%n", s.dir().toAbsolutePath());
        out.printf("  meta         %s (Raft %s)%n", l.metaApiAddress(), l.metaRaftAddress());
        out.printf("  stores       %s (replication factor %d)%n", String.join(", ", s.stores()),
                s.replicationFactor());
        out.printf("  access key   %s%n", c.accessKey());
        String secret = c.development() ? c.secretKey() : "$" + Credentials.SECRET_KEY_ENV;
        out.printf("  secret key   %s%n", c.development() ? secret : "(from " + Credentials.SECRET_KEY_ENV + ")");
        if (c.development()) {
            out.println("  WARNING: these are the published development credentials; set "
                    + Credentials.ACCESS_KEY_ENV + " and " + Credentials.SECRET_KEY_ENV + " for anything else.");
        }
        out.println("Try:");
        out.printf("  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s aws --endpoint-url %s s3 ls%n", c.accessKey(),
                secret, s.endpoint());
        out.printf("  ./hayloft status --meta %s%n", l.metaApiAddress());
        out.println("Stop with Ctrl-C.");
        out.flush();
    }
}
