package io.hayloft.bench.volume;

import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import io.hayloft.volume.VolumeException;
import java.io.IOException;
import java.nio.file.Path;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Opening a volume of 10 million needles: reading the {@code .idx} file, building the in-memory
 * index and checking the last record. The volume is built once and kept in the bench directory.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "-XX:+UseParallelGC"})
@State(Scope.Benchmark)
public class OpenBenchmark {
    @Param({"10000000"})
    int needles;

    @Param({"ascending", "interleaved4"})
    String keys;

    private Path dir;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        dir = VolumeFixtures.build("open", needles, 16, keys);
    }

    @Benchmark
    public long open() throws VolumeException {
        try (Volume v = Volume.open(dir, 1, VolumeConfig.defaults())) {
            return v.stats().liveNeedles();
        }
    }
}
