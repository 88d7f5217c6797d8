package io.hayloft.kafka;

/**
 * Where the bridge keeps images: named objects in one bucket. Failures say whether retrying can
 * help ({@link BridgeException#isTransient()}).
 */
public interface ImageStore extends AutoCloseable {
    /** Stores the image under the name; returns once it is durable. An existing one is replaced. */
    void put(String name, byte[] image) throws BridgeException;

    /**
     * Starts fetching the image under the name: its size is known before its bytes are read, so
     * a caller can refuse or make room for it first. A missing one is a permanent failure with
     * code {@code NoSuchKey}.
     */
    Fetch fetch(String name) throws BridgeException;

    /** An image being fetched. Closing it without reading drops the rest of its bytes. */
    interface Fetch extends AutoCloseable {
        long size();

        /** All its bytes (at most {@link #size()}), checked to be as many as announced. */
        byte[] readAll() throws BridgeException;

        @Override
        void close();
    }

    @Override
    void close();
}
