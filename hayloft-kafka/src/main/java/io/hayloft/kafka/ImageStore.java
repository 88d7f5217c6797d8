package io.hayloft.kafka;

/**
 * Where the bridge keeps images: named objects in one bucket. Failures say whether retrying can
 * help ({@link BridgeException#isTransient()}).
 */
public interface ImageStore extends AutoCloseable {
    /** Stores the image under the name; returns once it is durable. An existing one is replaced. */
    void put(String name, byte[] image) throws BridgeException;

    /** The image under the name; a missing one is a permanent failure with code {@code NoSuchKey}. */
    byte[] get(String name) throws BridgeException;

    @Override
    void close();
}
