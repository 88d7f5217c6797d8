package io.hayloft.cli.bench;

import io.hayloft.cli.Bytes;
import io.hayloft.cli.CliException;
import io.hayloft.cli.Credentials;
import io.hayloft.cli.Exit;
import io.hayloft.cli.s3.S3Failures;
import io.hayloft.cli.s3.S3Options;
import java.io.PrintWriter;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * {@code hayloft bench}: writes N objects of one size at a given concurrency through the S3 API,
 * then reads N of them chosen at random, and prints operations per second, throughput and
 * latency percentiles for each phase. The timed requests go through {@link PlainS3} (or, with
 * {@code --client sdk}, one AWS SDK client serving every thread); the bucket is made with the SDK.
 */
@Command(name = "bench", description = {"Benchmark the S3 API: writes, then random reads, timed.",
    "Writes N objects of size S at concurrency C, then reads N of them at random; prints ops/s, MB/s",
    "and p50/p99/p99.9 latency for each phase."})
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    S3Options s3Options;

    @Option(names = "-n", paramLabel = "N", defaultValue = "10000", description = "Objects (default: ${DEFAULT-VALUE}).")
    int objects;

    @Option(names = "-s", paramLabel = "SIZE", defaultValue = "4KiB", converter = ByteSize.class,
            description = "Object size: 1KiB, 64KiB, 1MiB... (default: ${DEFAULT-VALUE}).")
    long size;

    @Option(names = "-c", paramLabel = "C", defaultValue = "16", description = "Concurrent requests (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--bucket", paramLabel = "BUCKET", defaultValue = "hayloft-bench",
            description = "Bucket to write to, made when missing (default: ${DEFAULT-VALUE}).")
    String bucket;

    /** Which S3 client sends the timed requests. */
    enum Client { plain, sdk }

    @Option(names = "--client", paramLabel = "CLIENT", defaultValue = "plain",
            description = {"Client of the timed requests: plain (a minimal SigV4 HTTP/1.1 client, so that the",
                "figures measure the server) or sdk (the AWS SDK for Java) (default: ${DEFAULT-VALUE})."})
    Client client;

    @Option(names = "--reads", paramLabel = "R", defaultValue = "-1",
            description = "Reads in the read phase (default: N).")
    int reads;

    @Option(names = "--no-write", description = {"Skip the write phase: read the objects an earlier run with the same",
        "--bucket, -n and -s wrote."})
    boolean noWrite;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1", description = "Seed of the random reads (default: ${DEFAULT-VALUE}).")
    long seed;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (objects < 1 || concurrency < 1 || concurrency > 1024 || size < 0 || size > (1L << 30) || reads == 0 || reads < -1) {
            throw CliException.usage("need -n >= 1, 1 <= -c <= 1024, 0 <= -s <= 1GiB and --reads >= 1");
        }
        int readCount = reads < 0 ? objects : reads;
        // The JDK keeps at most http.maxConnections idle connections per server: one per thread
        // keeps every request on a warm connection.
        System.setProperty("http.maxConnections", Integer.toString(Math.max(concurrency, 5)));
        PrintWriter out = spec.commandLine().getOut();
        if (client == Client.plain && !"http".equals(s3Options.endpoint().getScheme())) {
            throw CliException.usage("--client plain speaks http:// only; use --client sdk for " + s3Options.endpoint());
        }
        Credentials credentials = Credentials.fromEnvironment();
        try (S3Client s3 = s3Options.client(UrlConnectionHttpClient.builder());
                PlainS3 plain = new PlainS3(s3Options.endpoint(), credentials.accessKey(), credentials.secretKey(),
                        "us-east-1")) {
            makeBucket(s3);
            byte[] payload = new byte[(int) size];
            new Random(seed).nextBytes(payload);
            out.printf("bench: %d objects of %s, concurrency %d, %s/%s, %s client%n", objects, Bytes.human(size),
                    concurrency, s3Options.endpoint(), bucket, client);
            out.flush();
            Phase.Operation put = client == Client.plain ? i -> plain.put(bucket, key(i), payload)
                    : i -> s3.putObject(p -> p.bucket(bucket).key(key(i)), RequestBody.fromBytes(payload));
            Phase.Result write = noWrite ? null : Phase.run("write", objects, concurrency, size, put);
            if (write != null) {
                report(write, out);
            }
            SplittableRandom random = new SplittableRandom(seed);
            int[] order = random.ints(readCount, 0, objects).toArray();
            Phase.Operation get = client == Client.plain ? i -> checkLength(plain.get(bucket, key(order[i])))
                    : i -> checkLength(s3.getObjectAsBytes(g -> g.bucket(bucket).key(key(order[i])))
                            .asByteArrayUnsafe().length);
            Phase.Result read = Phase.run("read", readCount, concurrency, size, get);
            report(read, out);
            return (write == null ? 0 : write.failures()) + read.failures() == 0 ? Exit.OK : Exit.FAILURE;
        } catch (SdkException e) {
            throw S3Failures.of(e, "s3://" + bucket, s3Options.endpoint());
        }
    }

    private void makeBucket(S3Client s3) {
        try {
            s3.headBucket(h -> h.bucket(bucket));
        } catch (S3Exception e) {
            if (e.statusCode() != 404) {
                throw e;
            }
            s3.createBucket(c -> c.bucket(bucket));
        }
    }

    private void checkLength(long read) throws java.io.IOException {
        if (read != size) {
            throw new java.io.IOException("read " + read + " bytes of a " + size + "-byte object");
        }
    }

    private static String key(int i) {
        return "bench/" + i;
    }

    private static void report(Phase.Result r, PrintWriter out) {
        out.println(r.summary());
        if (r.firstFailure() != null) {
            out.println("  first failure: " + r.firstFailure().getMessage());
        }
        out.flush();
    }
}
