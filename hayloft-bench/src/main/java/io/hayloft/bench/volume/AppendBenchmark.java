package io.hayloft.bench.volume;

import io.hayloft.bench.BenchDirs;

import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Appends to one volume: without fsync, and with fsync (group commit) at 1, 16 and 64 concurrent
 * writers. A fresh volume per iteration keeps the disk use bounded.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-XX:+UseParallelGC"})
@State(Scope.Benchmark)
public class AppendBenchmark {
    @Param({"4096", "65536"})
    int size;

    private Path dir;
    private ByteBuffer data;
    private final AtomicLong nextId = new AtomicLong();
    private Volume noFsync;
    private Volume fsync;
    private int volumeIds;

    @Setup(Level.Trial)
    public void setUpTrial() throws IOException {
        dir = BenchDirs.create("hayloft-append");
        byte[] bytes = new byte[size];
        new Random(1).nextBytes(bytes);
        data = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    }

    @Setup(Level.Iteration)
    public void setUpIteration() throws VolumeException {
        VolumeConfig config = VolumeConfig.defaults().withVolumeSizeBytesMax(32L << 30);
        noFsync = Volume.create(dir, ++volumeIds, 7, config.withFsync(false));
        fsync = Volume.create(dir, ++volumeIds, 7, config.withFsync(true));
    }

    @TearDown(Level.Iteration)
    public void tearDownIteration() throws IOException {
        for (Volume v : new Volume[] {noFsync, fsync}) {
            v.close();
            java.nio.file.Files.deleteIfExists(dir.resolve(v.id() + ".dat"));
            java.nio.file.Files.deleteIfExists(dir.resolve(v.id() + ".idx"));
        }
    }

    @TearDown(Level.Trial)
    public void tearDownTrial() {
        BenchDirs.delete(dir);
    }

    @Benchmark
    @Threads(1)
    public long noFsync1() throws VolumeException {
        return noFsync.append(nextId.incrementAndGet(), 42, data.duplicate());
    }

    @Benchmark
    @Threads(1)
    public long fsync1() throws VolumeException {
        return fsync.append(nextId.incrementAndGet(), 42, data.duplicate());
    }

    @Benchmark
    @Threads(16)
    public long fsync16() throws VolumeException {
        return fsync.append(nextId.incrementAndGet(), 42, data.duplicate());
    }

    @Benchmark
    @Threads(64)
    public long fsync64() throws VolumeException {
        return fsync.append(nextId.incrementAndGet(), 42, data.duplicate());
    }
}
