package io.hayloft.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Scratch directories for benchmarks, under {@code hayloft.bench.dir} (default: the system temp dir). */
public final class BenchDirs {
    private BenchDirs() {}

    public static Path create(String prefix) throws IOException {
        String base = System.getProperty("hayloft.bench.dir", System.getProperty("java.io.tmpdir"));
        Path root = Path.of(base);
        Files.createDirectories(root);
        return Files.createTempDirectory(root, prefix);
    }

    public static void delete(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
