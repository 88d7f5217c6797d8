package io.hayloft.it;

import io.hayloft.it.History.Kind;
import io.hayloft.it.History.Op;
import io.hayloft.it.History.Outcome;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Concurrent S3 clients doing puts (new keys and overwrites), gets, deletes and lists on a small
 * key space through the gateways, recording every operation in a {@link History}. Each client
 * makes one attempt per operation (no SDK retries), so each recorded outcome is one request's.
 */
final class Workload implements AutoCloseable {
    static final String BUCKET = "chaos";
    static final String PREFIX = "k/";

    private final List<S3Client> gateways = new ArrayList<>();
    private final History history;
    private final int keys;
    private final long seed;
    private final AtomicLong nextValue = new AtomicLong(1);
    private final List<Thread> clients = new ArrayList<>();
    private volatile boolean stopping;

    Workload(List<URI> endpoints, History history, int keys, long seed) {
        for (URI endpoint : endpoints) {
            gateways.add(client(endpoint));
        }
        this.history = history;
        this.keys = keys;
        this.seed = seed;
    }

    static S3Client client(URI endpoint) {
        return S3Client.builder().endpointOverride(endpoint).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(ProcessCluster.ACCESS_KEY, ProcessCluster.SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(20)).build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallTimeout(Duration.ofSeconds(25)))
                .build();
    }

    void createBucket() {
        gateways.get(0).createBucket(b -> b.bucket(BUCKET));
    }

    void start(int clientCount) {
        for (int c = 0; c < clientCount; c++) {
            String name = "c" + c;
            SplittableRandom random = new SplittableRandom(seed + c * 7919L);
            clients.add(Thread.ofPlatform().name("workload-" + name).start(() -> run(name, random)));
        }
    }

    void stop() throws InterruptedException {
        stopping = true;
        for (Thread t : clients) {
            t.join(60_000);
        }
    }

    private void run(String name, SplittableRandom random) {
        while (!stopping) {
            int g = random.nextInt(gateways.size());
            S3Client s3 = gateways.get(g);
            String client = name + "@g" + g;
            String key = PREFIX + random.nextInt(keys);
            int dice = random.nextInt(100);
            if (dice < 45) {
                put(s3, client, key, size(random));
            } else if (dice < 80) {
                history.add(get(s3, client, key));
            } else if (dice < 90) {
                delete(s3, client, key);
            } else {
                list(s3, client);
            }
        }
    }

    /** Mostly small values, some of a few hundred KiB. */
    private static int size(SplittableRandom random) {
        int dice = random.nextInt(100);
        if (dice < 70) {
            return 64 + random.nextInt(4096);
        } else if (dice < 95) {
            return (16 << 10) + random.nextInt(64 << 10);
        }
        return (128 << 10) + random.nextInt(384 << 10);
    }

    private void put(S3Client s3, String client, String key, int size) {
        long id = nextValue.getAndIncrement();
        byte[] body = Values.make(key, id, size);
        long start = System.nanoTime();
        Outcome outcome;
        String detail = null;
        try {
            s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromBytes(body));
            outcome = Outcome.OK;
        } catch (RuntimeException e) {
            outcome = outcomeOf(e);
            detail = describe(e);
        }
        history.add(new Op(client, Kind.PUT, key, id, start, System.nanoTime(), outcome, Set.of(), detail));
    }

    private void delete(S3Client s3, String client, String key) {
        long start = System.nanoTime();
        Outcome outcome;
        String detail = null;
        try {
            s3.deleteObject(b -> b.bucket(BUCKET).key(key));
            outcome = Outcome.OK;
        } catch (RuntimeException e) {
            outcome = outcomeOf(e);
            detail = describe(e);
        }
        history.add(new Op(client, Kind.DELETE, key, History.ABSENT, start, System.nanoTime(), outcome, Set.of(),
                detail));
    }

    /** Reads a key; the outcome is OK with the id read, DAMAGED, or FAILED/UNKNOWN when it could not be read. */
    static Op get(S3Client s3, String client, String key) {
        long start = System.nanoTime();
        try {
            ResponseBytes<GetObjectResponse> bytes = s3.getObjectAsBytes(b -> b.bucket(BUCKET).key(key));
            long end = System.nanoTime();
            try {
                return new Op(client, Kind.GET, key, Values.idOf(key, bytes.asByteArray()), start, end, Outcome.OK,
                        Set.of(), null);
            } catch (Values.Damaged d) {
                return new Op(client, Kind.GET, key, History.ABSENT, start, end, Outcome.DAMAGED, Set.of(),
                        d.getMessage());
            }
        } catch (NoSuchKeyException e) {
            return new Op(client, Kind.GET, key, History.ABSENT, start, System.nanoTime(), Outcome.OK, Set.of(), null);
        } catch (RuntimeException e) {
            return new Op(client, Kind.GET, key, History.ABSENT, start, System.nanoTime(), outcomeOf(e), Set.of(),
                    describe(e));
        }
    }

    private void list(S3Client s3, String client) {
        long start = System.nanoTime();
        Set<String> listed = new HashSet<>();
        try {
            String token = null;
            do {
                String t = token;
                ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket(BUCKET).prefix(PREFIX).maxKeys(50)
                        .continuationToken(t));
                page.contents().stream().map(S3Object::key).forEach(listed::add);
                token = page.isTruncated() ? page.nextContinuationToken() : null;
            } while (token != null);
            history.add(new Op(client, Kind.LIST, null, History.ABSENT, start, System.nanoTime(), Outcome.OK, listed,
                    null));
        } catch (RuntimeException e) {
            history.add(new Op(client, Kind.LIST, null, History.ABSENT, start, System.nanoTime(), outcomeOf(e),
                    Set.of(), describe(e)));
        }
    }

    private static Outcome outcomeOf(RuntimeException e) {
        if (e instanceof S3Exception s && s.statusCode() >= 400 && s.statusCode() < 500) {
            return Outcome.FAILED;
        }
        return Outcome.UNKNOWN;  // 5xx, timeouts, dropped connections: it may have happened
    }

    static String describe(RuntimeException e) {
        if (e instanceof S3Exception s) {
            return s.statusCode() + " " + (s.awsErrorDetails() == null ? "" : s.awsErrorDetails().errorCode());
        }
        if (e instanceof SdkClientException) {
            return "client: " + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        }
        return e.toString();
    }

    @Override
    public void close() {
        gateways.forEach(S3Client::close);
    }
}
