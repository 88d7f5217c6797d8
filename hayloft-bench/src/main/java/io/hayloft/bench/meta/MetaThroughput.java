package io.hayloft.bench.meta;

import io.hayloft.meta.raft.MetaGroup;
import io.hayloft.meta.raft.ProposalBatcher;
import io.hayloft.proto.v1.Chunk;
import io.hayloft.proto.v1.CreateBucketRequest;
import io.hayloft.proto.v1.Fid;
import io.hayloft.proto.v1.GetObjectRequest;
import io.hayloft.proto.v1.MetaCommand;
import io.hayloft.proto.v1.MetaQuery;
import io.hayloft.proto.v1.ObjectInfo;
import io.hayloft.proto.v1.PutObjectRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Object-name puts and lookups per second through a three-peer meta group in this process
 * (Raft over gRPC on loopback, fsynced log), with C concurrent callers.
 *
 * <p>Run: {@code java -cp hayloft-bench/target/benchmarks.jar io.hayloft.bench.meta.MetaThroughput
 * [callers] [seconds]}.
 */
public final class MetaThroughput {
    private MetaThroughput() {}

    public static void main(String[] args) throws Exception {
        int callers = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path dir = Files.createTempDirectory("hayloft-meta-bench");
        try (MetaGroup group = MetaGroup.start(dir, 3, 100_000)) {
            ProposalBatcher batcher = new ProposalBatcher(m -> group.client().async().send(m), 1000, 4);
            batcher.submit(MetaCommand.newBuilder().setCreateBucket(CreateBucketRequest.newBuilder().setBucket("bench"))
                    .build()).join();
            AtomicLong puts = new AtomicLong();
            run(callers, 2, () -> put(batcher, puts));
            puts.set(0);
            long start = System.nanoTime();
            run(callers, seconds, () -> put(batcher, puts));
            double putSeconds = (System.nanoTime() - start) / 1e9;
            long keys = puts.get();
            AtomicLong gets = new AtomicLong();
            start = System.nanoTime();
            run(callers, seconds, () -> {
                long k = ThreadLocalRandom.current().nextLong(Math.max(1, keys));
                group.client().io().sendReadOnly(Message.valueOf(ByteString.copyFrom(MetaQuery.newBuilder()
                        .setGetObject(GetObjectRequest.newBuilder().setBucket("bench").setKey("k" + k)).build()
                        .toByteArray())));
                gets.incrementAndGet();
            });
            double getSeconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("callers=%d name puts/s=%.0f linearizable lookups/s=%.0f%n", callers,
                    keys / putSeconds, gets.get() / getSeconds);
        }
    }

    private static final AtomicLong NEXT = new AtomicLong();

    private static void put(ProposalBatcher batcher, AtomicLong done) {
        long n = NEXT.getAndIncrement();
        batcher.submit(MetaCommand.newBuilder().setTimeMs(n).setPutObject(PutObjectRequest.newBuilder().setObject(
                ObjectInfo.newBuilder().setBucket("bench").setKey("k" + n).setSize(4096).setEtag("0123456789abcdef")
                        .addChunks(Chunk.newBuilder().setFid(Fid.newBuilder().setVolumeId(1).setNeedleId(n)
                                .setCookie((int) n)).setLength(4096)))).build()).join();
        done.incrementAndGet();
    }

    interface Op {
        void run() throws Exception;
    }

    private static void run(int callers, int seconds, Op op) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                all.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        op.run();
                    }
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get();
            }
        }
    }
}
