package io.hayloft.bench.volume;

import io.hayloft.bench.BenchDirs;

import io.hayloft.volume.Volume;
import io.hayloft.volume.VolumeConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds large volumes for the open and memory benchmarks, through the engine's own appends. */
final class VolumeFixtures {
    private VolumeFixtures() {}

    /**
     * Needle ids as meta hands them out: {@code ascending} is one writer with one lease after
     * another; {@code interleaved4} is four gateways appending at once, each from its own leased
     * block of 10,000 ids, so most ids arrive below the largest one seen.
     */
    static long needleId(String keys, long i) {
        return switch (keys) {
            case "ascending" -> i + 1;
            case "interleaved4" -> {
                long writer = i % 4;
                long k = i / 4;
                long round = k / 10_000;
                yield (round * 4 + writer) * 10_000 + k % 10_000 + 1;
            }
            default -> throw new IllegalArgumentException("unknown key distribution " + keys);
        };
    }

    /** Creates (or reuses, when a finished one is there) a volume of {@code needles} needles of {@code size} bytes. */
    static Path build(String name, int needles, int size, String keys) throws IOException {
        Path dir = Path.of(System.getProperty("hayloft.bench.dir", System.getProperty("java.io.tmpdir")),
                "hayloft-fixture-" + name + "-" + needles + "-" + size + "-" + keys);
        if (Files.exists(dir.resolve("done"))) {
            return dir;
        }
        BenchDirs.delete(dir);
        Files.createDirectories(dir);
        ByteBuffer data = ByteBuffer.allocate(size);
        try (Volume v = Volume.create(dir, 1, 7, VolumeConfig.defaults().withFsync(false)
                .withVolumeSizeBytesMax(32L << 30))) {
            for (long i = 0; i < needles; i++) {
                data.putLong(0, i);
                v.append(needleId(keys, i), (int) i, data.duplicate());
            }
        }
        Files.createFile(dir.resolve("done"));
        return dir;
    }
}
