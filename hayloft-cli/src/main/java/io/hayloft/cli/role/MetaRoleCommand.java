package io.hayloft.cli.role;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Foreground;
import io.hayloft.meta.server.MetaConfig;
import io.hayloft.meta.server.MetaNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hayloft meta}: one meta peer of a group of 1, 3 or 5. Every peer is given the same
 * peer list; each listens for Raft and for the Meta API on its own entry's ports.
 */
@Command(name = "meta", description = {"Run one meta peer.",
    "Keys of the --config file (flags of the same name override them): id, peers, dir, replication-factor,",
    "repair-mib-per-second, repairs-at-once, heartbeat-ms, dead-timeout-seconds, orphan-audit-hours,",
    "orphan-grace-hours.",
    "peers: id=raftHost:raftPort/apiHost:apiPort,... listing every peer of the group, this one included."})
public final class MetaRoleCommand implements Callable<Integer> {
    static final Set<String> KEYS = Set.of("id", "peers", "dir", "replication-factor", "repair-mib-per-second",
            "repairs-at-once", "heartbeat-ms", "dead-timeout-seconds",
            "orphan-audit-hours", "orphan-grace-hours");

    @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings.")
    Path config;

    @Option(names = "--id", paramLabel = "ID", description = "This peer's id, one of the peers.")
    String id;

    @Option(names = "--peers", paramLabel = "ID=RAFT/API,...", description = "Every peer of the group.")
    String peers;

    @Option(names = "--dir", paramLabel = "DIR", description = "This peer's data directory.")
    Path dir;

    @Option(names = "--replication-factor", paramLabel = "N", description = "Replicas of each new volume (default: 3).")
    Integer replicationFactor;

    @Spec
    CommandSpec spec;

    /** The peer's configuration from the file and the flags. */
    MetaConfig metaConfig() {
        RoleSettings s = RoleSettings.load(config, KEYS).flag("id", id).flag("peers", peers).flag("dir", dir)
                .flag("replication-factor", replicationFactor);
        List<MetaConfig.Peer> group = new ArrayList<>();
        for (String entry : s.list("peers")) {
            group.add(peer(s, entry));
        }
        try {
            return MetaConfig.of(s.required("id"), group, Path.of(s.required("dir")))
                    .withReplicationFactor(s.integer("replication-factor", 3, 1, 5))
                    .withRepair((long) s.integer("repair-mib-per-second",
                            (int) (MetaConfig.REPAIR_BYTES_PER_SECOND_DEFAULT >> 20), 0, 1 << 20) << 20,
                            s.integer("repairs-at-once", MetaConfig.REPAIRS_AT_ONCE_DEFAULT, 1, 64))
                    .withLiveness(Duration.ofMillis(s.integer("heartbeat-ms",
                                    (int) MetaConfig.HEARTBEAT_INTERVAL_DEFAULT.toMillis(), 50, 60_000)),
                            Duration.ofSeconds(s.integer("dead-timeout-seconds",
                                    (int) MetaConfig.DEAD_TIMEOUT_DEFAULT.toSeconds(), 1, 86_400)))
                    .withOrphanAudit(hours(s, "orphan-audit-hours", MetaConfig.ORPHAN_AUDIT_INTERVAL_DEFAULT, 0),
                            hours(s, "orphan-grace-hours", MetaConfig.ORPHAN_GRACE_DEFAULT, 0.0001));
        } catch (IllegalArgumentException e) {
            throw CliException.usage("meta: " + e.getMessage());
        }
    }

    private static Duration hours(RoleSettings s, String key, Duration fallback, double min) {
        return Duration.ofMillis(Math.round(s.decimal(key, fallback.toMillis() / 3_600_000.0, min, 8_760) * 3_600_000));
    }

    private static MetaConfig.Peer peer(RoleSettings s, String entry) {
        int eq = entry.indexOf('=');
        int slash = entry.indexOf('/', eq + 1);
        if (eq <= 0 || slash < 0) {
            throw s.bad("peers", "'" + entry + "' is not id=raftHost:raftPort/apiHost:apiPort");
        }
        return new MetaConfig.Peer(entry.substring(0, eq), s.hostPort("peers", entry.substring(eq + 1, slash)),
                s.hostPort("peers", entry.substring(slash + 1)));
    }

    @Override
    public Integer call() throws Exception {
        MetaConfig c = metaConfig();
        MetaNode node = MetaNode.start(c);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("meta peer %s: API %s, Raft %s, data %s (%d peers)%n", c.peerId(), c.self().apiAddress(),
                c.self().raftAddress(), c.dataDir().toAbsolutePath(), c.peers().size());
        out.flush();
        Foreground.run(new RunningRole(List.of(node)), spec.commandLine().getErr());
        return 0;
    }
}
