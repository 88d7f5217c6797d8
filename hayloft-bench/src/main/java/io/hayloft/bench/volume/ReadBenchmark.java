package io.hayloft.bench.volume;

import io.hayloft.bench.BenchDirs;

import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import io.hayloft.volume.format.NeedleFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Random reads of 4 KiB needles from a warm volume ({@code volumeRead}: index lookup, one
 * positional read, record and data CRC checks), side by side with a plain positional
 * {@link FileChannel} read of the same record bytes ({@code plainFileChannelRead}).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "-XX:+UseParallelGC"})
@State(Scope.Benchmark)
public class ReadBenchmark {
    @Param({"4096"})
    int size;

    @Param({"100000"})
    int needles;

    private Path dir;
    private Volume volume;
    private FileChannel plain;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = BenchDirs.create("hayloft-read");
        volume = Volume.create(dir, 1, 7, VolumeConfig.defaults().withFsync(false));
        byte[] bytes = new byte[size];
        Random random = new Random(1);
        for (int i = 1; i <= needles; i++) {
            random.nextBytes(bytes);
            volume.append(i, i, bytes);
        }
        volume.close();
        volume = Volume.open(dir, 1, VolumeConfig.defaults().withFsync(false));
        plain = FileChannel.open(dir.resolve("1.dat"), StandardOpenOption.READ);
        for (int i = 1; i <= needles; i++) {
            volume.read(i, i);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        plain.close();
        volume.close();
        BenchDirs.delete(dir);
    }

    @Benchmark
    public ByteBuffer volumeRead() throws VolumeException {
        int id = 1 + ThreadLocalRandom.current().nextInt(needles);
        return volume.read(id, id);
    }

    /** The same bytes, read by offset with no index, no checks: the floor the engine is held to. */
    @Benchmark
    public ByteBuffer plainFileChannelRead() throws IOException {
        int id = 1 + ThreadLocalRandom.current().nextInt(needles);
        long recordBytes = NeedleFormat.recordBytes(size);
        ByteBuffer buf = ByteBuffer.allocate((int) recordBytes);
        plain.read(buf, NeedleFormat.SUPERBLOCK_BYTES + (id - 1) * recordBytes);
        return buf;
    }
}
