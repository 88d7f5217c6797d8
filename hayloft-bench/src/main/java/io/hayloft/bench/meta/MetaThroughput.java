package io.hayloft.bench.meta;

import io.hayloft.bench.BenchDirs;
import io.hayloft.bench.Callers;
import io.hayloft.client.MetaClient;
import io.hayloft.meta.raft.MetaGroup;
import io.hayloft.meta.server.MetaNode;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.ObjectInfo;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Object-name puts and linearizable lookups per second through a three-peer meta group in this
 * process (Raft over gRPC on loopback, fsynced log), with C concurrent callers each waiting for
 * its answer before the next call. Measured two ways: callers in this process calling the leader's
 * {@code MetaNode} directly (what Raft and the state machine sustain), and callers going through
 * the {@code Meta} gRPC API with {@code MetaClient}, as gateways do (on one 2-core machine the
 * callers' own gRPC work then shares the cores with the three peers).
 *
 * <p>Run: {@code java -cp hayloft-bench/target/benchmarks.jar io.hayloft.bench.meta.MetaThroughput
 * [callers] [seconds] [warm-up seconds]}.
 */
public final class MetaThroughput {
    private MetaThroughput() {}

    public static void main(String[] args) throws Exception {
        int callers = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int warmUp = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Path dir = BenchDirs.create("hayloft-meta-bench");
        try (MetaGroup group = MetaGroup.start(dir, 3, 100_000);
                MetaClient client = MetaClient.connect(group.apiAddresses())) {
            client.createBucket("bench");
            MetaNode leader = group.node(group.leaderIndex());
            measure("in-process", callers, seconds, warmUp, leader::putObject, leader::getObject);
            measure("gRPC", callers, seconds, warmUp, client::putObject, client::getObject);
        } finally {
            BenchDirs.delete(dir);
        }
    }

    interface Put {
        Object put(ObjectInfo o) throws Exception;
    }

    interface Get {
        Object get(String bucket, String key) throws Exception;
    }

    private static void measure(String how, int callers, int seconds, int warmUp, Put put, Get get) throws Exception {
        AtomicLong puts = new AtomicLong();
        Callers.run(callers, warmUp, () -> put(put, puts));
        puts.set(0);
        long start = System.nanoTime();
        Callers.run(callers, seconds, () -> put(put, puts));
        double putSeconds = (System.nanoTime() - start) / 1e9;
        long keys = NEXT.get();
        AtomicLong gets = new AtomicLong();
        Callers.run(callers, warmUp, () -> get.get("bench", "k" + ThreadLocalRandom.current().nextLong(keys)));
        start = System.nanoTime();
        Callers.run(callers, seconds, () -> {
            get.get("bench", "k" + ThreadLocalRandom.current().nextLong(keys));
            gets.incrementAndGet();
        });
        double getSeconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("%s callers=%d name puts/s=%.0f linearizable lookups/s=%.0f%n", how, callers,
                puts.get() / putSeconds, gets.get() / getSeconds);
    }

    private static final AtomicLong NEXT = new AtomicLong();

    private static void put(Put put, AtomicLong done) throws Exception {
        long n = NEXT.getAndIncrement();
        put.put(ObjectInfo.newBuilder().setBucket("bench").setKey("k" + n).setSize(4096)
                .setEtag("0123456789abcdef0123456789abcdef").addChunks(Chunk.newBuilder().setFid(Fid.newBuilder()
                        .setVolumeId(1).setNeedleId(n).setCookie((int) n)).setLength(4096)).build());
        done.incrementAndGet();
    }
}
