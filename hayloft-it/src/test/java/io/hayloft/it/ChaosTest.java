package io.hayloft.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.hayloft.it.History.Kind;
import io.hayloft.it.History.Op;
import io.hayloft.it.History.Outcome;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Hayloft as separate processes (3 meta peers, 5 stores, 2 gateways) under a concurrent S3
 * workload while a nemesis kills, pauses, partitions, fills and corrupts them; then checks the
 * whole history (no acknowledged write lost, no stale or invented read, no corrupt byte served),
 * that the cluster heals to full replication within a bound, and that every object reads back
 * the same through every gateway.
 *
 * <p>{@code -Dchaos.minutes=N} runs the faults for N minutes (default 0.75, the short schedule of
 * the build); {@code -Dchaos.seed=S} replays a schedule. The report is printed and written to
 * {@code target/chaos/report-SEED.md}, the processes' logs beside it.
 */
class ChaosTest {
    private static final int KEYS = 24;
    private static final int CLIENTS = 6;
    private static final long HEAL_BOUND_SECONDS = 120;

    @Test
    void noAcknowledgedWriteIsLostWhileFaultsAreInjected() throws Exception {
        long seed = Long.getLong("chaos.seed", System.nanoTime());
        double minutes = Double.parseDouble(System.getProperty("chaos.minutes", "0.75"));
        System.out.println("chaos: seed " + seed + " (replay with -Dchaos.seed=" + seed + "), faults for " + minutes
                + " min");
        Path dir = Path.of("target", "chaos", "run-" + seed).toAbsolutePath();
        moveAside(dir); // a replay starts from empty disks, and the earlier run's logs stay for reading
        Files.createDirectories(dir);
        History history = new History();
        Nemesis nemesis;
        long healNanos;
        List<String> anomalies;
        Map<Outcome, Integer> finalReads = new EnumMap<>(Outcome.class);
        String orphans;
        try (ProcessCluster cluster = new ProcessCluster(dir, 3, 5, 2)) {
            cluster.start(java.time.Duration.ofSeconds(120));
            List<URI> endpoints = cluster.gateways().stream().map(g -> URI.create("http://127.0.0.1:" + g.port))
                    .toList();
            nemesis = new Nemesis(cluster, seed);
            try (Workload workload = new Workload(endpoints, history, KEYS, seed)) {
                workload.createBucket();
                workload.start(CLIENTS);
                Thread.sleep(5_000);
                nemesis.run((long) (minutes * 60e9));
                Thread.sleep(5_000);  // the workload goes on for a while after the last fault
                workload.stop();
            }

            long healStart = System.nanoTime();
            Optional<String> unhealed = Healing.unhealed(cluster);
            while (unhealed.isPresent() && System.nanoTime() - healStart < HEAL_BOUND_SECONDS * 1_000_000_000L) {
                Thread.sleep(1_000);
                unhealed = Healing.unhealed(cluster);
            }
            healNanos = System.nanoTime() - healStart;
            if (unhealed.isPresent()) {
                cluster.dumpThreads(); // what the repairs still running are waiting for
            }
            assertThat(unhealed).as("healed within %d s of the last fault; logs and thread dumps in %s",
                    HEAL_BOUND_SECONDS, dir)
                    .isEmpty();

            Checker checker = new Checker(history.ops());
            for (URI endpoint : endpoints) {
                try (S3Client s3 = Workload.client(endpoint)) {
                    for (int k = 0; k < KEYS; k++) {
                        Op read = Workload.get(s3, "final@" + endpoint.getPort(), Workload.PREFIX + k);
                        finalReads.merge(read.outcome(), 1, Integer::sum);
                        if (read.outcome() == Outcome.FAILED || read.outcome() == Outcome.UNKNOWN) {
                            checker.anomalies().add("final read failed on a healed cluster: " + read);
                        }
                        checker.checkFinalRead(read);
                    }
                }
            }
            anomalies = checker.anomalies();
            orphans = cluster.status().map(s -> s.getOrphans().toString().replace('\n', ' ').trim())
                    .orElse("(no leader answered)");
        }
        String report = report(seed, minutes, history, nemesis, healNanos, finalReads, anomalies, orphans);
        System.out.println(report);
        Files.writeString(dir.getParent().resolve("report-" + seed + ".md"), report);
        assertThat(anomalies).as("anomalies; the report: target/chaos/report-%d.md, logs in %s", seed, dir).isEmpty();
        deleteData(dir);  // the logs stay
    }

    private static String report(long seed, double minutes, History history, Nemesis nemesis, long healNanos,
            Map<Outcome, Integer> finalReads, List<String> anomalies, String orphans) {
        StringBuilder r = new StringBuilder();
        r.append("# Chaos run ").append(seed).append("\n\n");
        r.append(String.format("Faults for %.2f min; 3 meta peers, 5 stores, 2 gateways; %d clients on %d keys.%n%n",
                minutes, CLIENTS, KEYS));
        r.append("## Operations\n\n| kind | ok | refused | unknown | damaged |\n|---|---|---|---|---|\n");
        for (Kind kind : Kind.values()) {
            Map<Outcome, Long> counts = new EnumMap<>(Outcome.class);
            history.ops().stream().filter(o -> o.kind() == kind).forEach(o -> counts.merge(o.outcome(), 1L, Long::sum));
            r.append(String.format("| %s | %d | %d | %d | %d |%n", kind, counts.getOrDefault(Outcome.OK, 0L),
                    counts.getOrDefault(Outcome.FAILED, 0L), counts.getOrDefault(Outcome.UNKNOWN, 0L),
                    counts.getOrDefault(Outcome.DAMAGED, 0L)));
        }
        r.append("\nFinal reads through every gateway: ").append(finalReads).append("\n\n");
        r.append("## Faults\n\n").append(nemesis.countsByKind()).append("\n\n```\n").append(nemesis.log())
                .append("```\n\n");
        r.append(String.format("## Time to heal%n%nAll volumes back to full, identical replicas %.1f s after the "
                + "workload stopped (%.1f s after the last fault ended).%n%n", healNanos / 1e9, healNanos / 1e9 + 5));
        r.append("## Orphan audit (since the last leader change)\n\n").append(orphans).append("\n\n");
        r.append("## Anomalies: ").append(anomalies.size()).append("\n\n");
        for (String a : anomalies.subList(0, Math.min(anomalies.size(), 50))) {
            r.append("- ").append(a).append('\n');
        }
        return r.toString();
    }

    private static void deleteData(Path dir) throws java.io.IOException {
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> all = Files.walk(dir)) {
            all.filter(p -> !p.getFileName().toString().endsWith(".log")).forEach(paths::add);
        }
        paths.sort(Comparator.reverseOrder());
        for (Path p : paths) {
            if (!Files.isDirectory(p) || isEmpty(p)) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static boolean isEmpty(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /** Renames an earlier run's directory of the same seed to {@code run-SEED.earlier-N}, the first N free. */
    private static void moveAside(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        for (int n = 1; ; n++) {
            Path aside = dir.resolveSibling(dir.getFileName() + ".earlier-" + n);
            if (!Files.exists(aside)) {
                Files.move(dir, aside);
                return;
            }
        }
    }
}
