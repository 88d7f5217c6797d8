package io.hayloft.cli.role;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Foreground;
import io.hayloft.store.StoreConfig;
import io.hayloft.store.StoreNode;
import io.hayloft.volume.VolumeConfig;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hayloft store}: one storage node, which registers with meta and serves its volumes. */
@Command(name = "store", description = {"Run one store.",
    "Keys of the --config file (flags of the same name override them):",
    "id, rack, dir, bind, advertised-host, advertised-port, meta, scrub-hours, scrub-mib-per-second."})
public final class StoreRoleCommand implements Callable<Integer> {
    static final Set<String> KEYS = Set.of("id", "rack", "dir", "bind", "advertised-host", "advertised-port", "meta",
            "scrub-hours", "scrub-mib-per-second", "pull-stall-seconds");
    static final String BIND_DEFAULT = "0.0.0.0:9200";

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings.")
    Path config;

    @Option(names = "--id", paramLabel = "ID", description = "The store's id; never change it once it holds data.")
    String id;

    @Option(names = "--rack", paramLabel = "RACK", description = "Its rack or failure domain (default: none).")
    String rack;

    @Option(names = "--dir", paramLabel = "DIR", description = "Its data directory.")
    Path dir;

    @Option(names = "--bind", paramLabel = "HOST:PORT", description = "Where it listens (default: " + BIND_DEFAULT + ").")
    String bind;

    @Option(names = "--advertised-host", paramLabel = "HOST",
            description = "The host others reach it at (default: the bind host, required when that is 0.0.0.0).")
    String advertisedHost;

    @Option(names = "--meta", paramLabel = "HOST:PORT,...", description = "The meta peers' API addresses.")
    String meta;

    @Spec
    CommandSpec spec;

    /** The store's identity from the file and the flags. */
    StoreNode.Identity identity() {
        RoleSettings s = RoleSettings.load(config, KEYS).flag("id", id).flag("rack", rack).flag("dir", dir)
                .flag("bind", bind).flag("advertised-host", advertisedHost).flag("meta", meta);
        String bindAddress = s.hostPort("bind", s.get("bind", BIND_DEFAULT));
        int colon = bindAddress.lastIndexOf(':');
        String bindHost = bindAddress.substring(0, colon);
        String advertised = s.get("advertised-host", bindHost);
        if (advertised.equals("0.0.0.0") || advertised.equals("::")) {
            throw s.bad("advertised-host", "required when the store binds every interface");
        }
        List<String> metaAddresses = s.list("meta").stream().map(a -> s.hostPort("meta", a)).toList();
        try {
            return new StoreNode.Identity(s.required("id"), s.get("rack", ""), Path.of(s.required("dir")),
                    new InetSocketAddress(bindHost, Integer.parseInt(bindAddress.substring(colon + 1))), advertised,
                    s.integer("advertised-port", 0, 0, 65535), metaAddresses);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("store: " + e.getMessage());
        }
    }

    /**
     * The store's settings from the file: how often it scrubs its volumes, and how fast; how long
     * a repair's copy waits for its source's next record before it is given up.
     */
    StoreConfig storeConfig() {
        RoleSettings s = RoleSettings.load(config, KEYS);
        StoreConfig defaults = StoreConfig.defaults();
        return defaults.withScrub(Math.round(s.decimal("scrub-hours", defaults.scrubIntervalMs() / 3_600_000.0, 0, 720)
                * 3_600_000), (long) s.integer("scrub-mib-per-second", (int) (defaults.scrubBytesPerSecond() >> 20), 1,
                10_240) << 20)
                .withPullStallMs(Math.round(s.decimal("pull-stall-seconds", defaults.pullStallMs() / 1_000.0, 0.1, 3_600)
                        * 1_000));
    }

    @Override
    public Integer call() throws Exception {
        StoreNode.Identity identity = identity();
        StoreNode node = StoreNode.start(identity, VolumeConfig.defaults(), storeConfig());
        PrintWriter out = spec.commandLine().getOut();
        out.printf("store %s: %s:%d, data %s, meta %s%n", identity.storeId(), identity.advertisedHost(), node.port(),
                identity.dataDir().toAbsolutePath(), String.join(",", identity.metaAddresses()));
        out.flush();
        Foreground.run(new RunningRole(List.of(node)), spec.commandLine().getErr());
        return 0;
    }
}
