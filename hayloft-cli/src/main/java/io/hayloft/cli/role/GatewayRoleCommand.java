package io.hayloft.cli.role;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Credentials;
import io.hayloft.cli.Foreground;
import io.hayloft.client.HayloftClient;
import io.hayloft.gateway.Gateway;
import io.hayloft.gateway.GatewayConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hayloft gateway}: an S3 gateway in front of a cluster. Stateless: run as many as needed
 * behind a load balancer.
 */
@Command(name = "gateway", description = {"Run an S3 gateway.",
    "Keys of the --config file (flags of the same name override them): meta, host, port, access-key, secret-key,",
    "anonymous, domains. Without access-key and secret-key, HAYLOFT_ACCESS_KEY and HAYLOFT_SECRET_KEY are used."})
public final class GatewayRoleCommand implements Callable<Integer> {
    static final Set<String> KEYS = Set.of("meta", "host", "port", "access-key", "secret-key", "anonymous",
            "domains");

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings.")
    Path config;

    @Option(names = "--meta", paramLabel = "HOST:PORT,...", description = "The meta peers' API addresses.")
    String meta;

    @Option(names = "--host", paramLabel = "HOST", description = "Address to bind (default: 0.0.0.0).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", description = "S3 port (default: 9000).")
    Integer port;

    @Option(names = "--anonymous", description = "Accept unsigned requests too.")
    Boolean anonymous;

    @Option(names = "--domains", paramLabel = "DOMAIN,...",
            description = "Domains of virtual-host-style requests, bucket.DOMAIN (default: localhost).")
    String domains;

    @Spec
    CommandSpec spec;

    /** The gateway's settings and its meta addresses. */
    record Settings(GatewayConfig gateway, List<String> metaAddresses, boolean developmentCredentials) {}

    Settings settings() {
        RoleSettings s = RoleSettings.load(config, KEYS).flag("meta", meta).flag("host", host).flag("port", port)
                .flag("anonymous", anonymous).flag("domains", domains);
        List<String> metaAddresses = s.list("meta").stream().map(a -> s.hostPort("meta", a)).toList();
        Credentials credentials = s.credentials();
        try {
            GatewayConfig c = GatewayConfig.defaults(credentials.accessKey(), credentials.secretKey())
                    .withHost(s.get("host", "0.0.0.0")).withPort(s.integer("port", 9000, 0, 65535))
                    .withAnonymous(s.bool("anonymous", false))
                    .withDomains(s.get("domains", null) == null ? List.of("localhost") : s.list("domains"));
            return new Settings(c, metaAddresses, credentials.development());
        } catch (IllegalArgumentException e) {
            throw CliException.usage("gateway: " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        Settings s = settings();
        HayloftClient client = HayloftClient.connect(s.metaAddresses());
        Gateway gateway;
        try {
            gateway = Gateway.start(s.gateway(), client);
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("gateway: S3 at %s, meta %s%n", gateway.endpoint(), String.join(",", s.metaAddresses()));
        if (s.developmentCredentials()) {
            out.println("WARNING: serving with the published development credentials; set "
                    + Credentials.ACCESS_KEY_ENV + " and " + Credentials.SECRET_KEY_ENV + ".");
        }
        out.flush();
        Foreground.run(new RunningRole(List.of(gateway, client)), spec.commandLine().getErr());
        return 0;
    }
}
