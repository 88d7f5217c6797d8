package io.hayloft.gateway.auth;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;
import java.util.zip.Checksum;

/**
 * The {@code x-amz-checksum-*} algorithms the gateway can compute with the JDK. Their values are the
 * base64 of the checksum's big-endian bytes; others (e.g. CRC64NVME) are not checked.
 */
enum TrailerChecksum {
    CRC32("CRC32", () -> crc(new CRC32())),
    CRC32C("CRC32C", () -> crc(new CRC32C())),
    SHA1("SHA1", () -> digest("SHA-1")),
    SHA256("SHA256", () -> digest("SHA-256"));

    /** A running checksum over the payload. */
    interface Running {
        void update(byte[] data, int offset, int length);

        /** The checksum as it appears in the header: base64 of its bytes. */
        String base64();
    }

    private final String displayName;
    private final Supplier<Running> factory;

    TrailerChecksum(String displayName, Supplier<Running> factory) {
        this.displayName = displayName;
        this.factory = factory;
    }

    /** The algorithm a header such as {@code x-amz-checksum-crc32} names, or null when not one of these. */
    static TrailerChecksum forHeader(String headerName) {
        String name = headerName.trim().toLowerCase(Locale.ROOT);
        for (TrailerChecksum checksum : values()) {
            if (name.equals(checksum.headerName())) {
                return checksum;
            }
        }
        return null;
    }

    String headerName() {
        return "x-amz-checksum-" + name().toLowerCase(Locale.ROOT);
    }

    /** The name S3 uses in its messages, e.g. {@code CRC32C}. */
    String displayName() {
        return displayName;
    }

    Running start() {
        return factory.get();
    }

    private static Running crc(Checksum crc) {
        return new Running() {
            @Override
            public void update(byte[] data, int offset, int length) {
                crc.update(data, offset, length);
            }

            @Override
            public String base64() {
                return Base64.getEncoder().encodeToString(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
            }
        };
    }

    private static Running digest(String algorithm) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no " + algorithm, e);
        }
        return new Running() {
            @Override
            public void update(byte[] data, int offset, int length) {
                digest.update(data, offset, length);
            }

            @Override
            public String base64() {
                return Base64.getEncoder().encodeToString(digest.digest());
            }
        };
    }
}
