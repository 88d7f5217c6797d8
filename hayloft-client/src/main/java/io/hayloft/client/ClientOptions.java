package io.hayloft.client;

import java.time.Duration;
import java.util.List;

/**
 * How a {@link HayloftClient} talks to the cluster.
 *
 * @param metaAddresses host:port of the meta peers (any one is enough to find the others' leader)
 * @param assignCount needle ids leased per assignment
 * @param leaseSlots assignments held at once; concurrent writers spread over them, and so over volumes
 * @param readTimeout longest wait for one replica's answer to a read before trying the next
 * @param writeTimeout longest wait for a write (the primary and all its secondaries)
 * @param metaCallTimeout longest wait for one meta peer's answer
 * @param metaRetryBudget how long a meta call keeps looking for a leader
 * @param locationTtl how long a volume's replica list is used before it is looked up again
 */
public record ClientOptions(List<String> metaAddresses, int assignCount, int leaseSlots, Duration readTimeout,
        Duration writeTimeout, Duration metaCallTimeout, Duration metaRetryBudget, Duration locationTtl) {

    public ClientOptions {
        metaAddresses = List.copyOf(metaAddresses);
        if (metaAddresses.isEmpty()) {
            throw new IllegalArgumentException("at least one meta address is needed");
        }
        if (assignCount < 1 || leaseSlots < 1) {
            throw new IllegalArgumentException("assignCount and leaseSlots must be positive");
        }
    }

    public static ClientOptions of(List<String> metaAddresses) {
        return new ClientOptions(metaAddresses, 1024, 4, Duration.ofSeconds(5), Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(20), Duration.ofSeconds(30));
    }

    public ClientOptions withReadTimeout(Duration d) {
        return new ClientOptions(metaAddresses, assignCount, leaseSlots, d, writeTimeout, metaCallTimeout,
                metaRetryBudget, locationTtl);
    }

    /** Shorter meta timeouts suit a command-line tool, which should say soon that meta is out of reach. */
    public ClientOptions withMetaTimeouts(Duration callTimeout, Duration retryBudget) {
        return new ClientOptions(metaAddresses, assignCount, leaseSlots, readTimeout, writeTimeout, callTimeout,
                retryBudget, locationTtl);
    }

    public ClientOptions withLeaseSlots(int slots) {
        return new ClientOptions(metaAddresses, assignCount, slots, readTimeout, writeTimeout, metaCallTimeout,
                metaRetryBudget, locationTtl);
    }

    public ClientOptions withLocationTtl(Duration d) {
        return new ClientOptions(metaAddresses, assignCount, leaseSlots, readTimeout, writeTimeout, metaCallTimeout,
                metaRetryBudget, d);
    }
}
