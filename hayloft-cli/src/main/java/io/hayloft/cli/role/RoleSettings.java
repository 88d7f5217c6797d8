package io.hayloft.cli.role;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Credentials;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * A role's settings: a properties file ({@code --config}) with flags laid over it. Unknown keys
 * are refused, and every bad value is reported with the file and key it came from, so that a
 * node never starts on a setting it misread.
 */
final class RoleSettings {
    private final Map<String, String> values = new HashMap<>();
    private final Map<String, String> sources = new HashMap<>();

    private RoleSettings() {}

    /** The file's settings (none when {@code file} is null); keys outside {@code known} are refused. */
    static RoleSettings load(Path file, Set<String> known) {
        return load(file, known, null);
    }

    /**
     * The file's settings, where keys starting with {@code passThrough} (e.g. {@code kafka.}) are
     * accepted too, for a library's own settings; {@link #prefixed} returns them.
     */
    static RoleSettings load(Path file, Set<String> known, String passThrough) {
        RoleSettings s = new RoleSettings();
        if (file == null) {
            return s;
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw CliException.usage("no such configuration file: " + file);
        } catch (IOException | IllegalArgumentException e) {
            throw CliException.usage("cannot read " + file + ": " + e.getMessage());
        }
        for (String key : p.stringPropertyNames()) {
            boolean passed = passThrough != null && key.startsWith(passThrough) && key.length() > passThrough.length();
            if (!known.contains(key) && !passed) {
                throw CliException.usage(file + ": unknown key '" + key + "' (known: "
                        + String.join(", ", new TreeSet<>(known))
                        + (passThrough == null ? "" : ", and " + passThrough + "*") + ")");
            }
            s.values.put(key, p.getProperty(key).trim());
            s.sources.put(key, file + ": " + key);
        }
        return s;
    }

    /** The settings whose keys start with {@code prefix}, without it. */
    Map<String, String> prefixed(String prefix) {
        Map<String, String> m = new HashMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                m.put(k.substring(prefix.length()), v);
            }
        });
        return m;
    }

    /** Sets {@code key} from its flag when the flag was given. */
    RoleSettings flag(String key, Object value) {
        if (value != null) {
            values.put(key, value.toString());
            sources.put(key, "--" + key);
        }
        return this;
    }

    String required(String key) {
        String v = values.get(key);
        if (v == null || v.isEmpty()) {
            throw CliException.usage("missing setting '" + key + "': give --" + key + " or put it in --config");
        }
        return v;
    }

    /** The value without surrounding blanks (properties files keep trailing ones), or the fallback. */
    String get(String key, String fallback) {
        String v = values.get(key) == null ? null : values.get(key).strip();
        return v == null || v.isEmpty() ? fallback : v;
    }

    int integer(String key, int fallback, int min, int max) {
        String v = values.get(key);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw bad(key, "must be " + min + " to " + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(key, "not a number");
        }
    }

    /** A decimal number such as {@code 0.5}, within [min, max]. */
    double decimal(String key, double fallback, double min, double max) {
        String v = values.get(key);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        double n;
        try {
            n = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw bad(key, "not a number");
        }
        if (!(n >= min && n <= max)) {
            throw bad(key, "must be " + min + " to " + max);
        }
        return n;
    }

    boolean bool(String key, boolean fallback) {
        String v = values.get(key);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw bad(key, "must be true or false");
        };
    }

    /** A comma-separated list, without blanks. */
    List<String> list(String key) {
        return Arrays.stream(required(key).split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }

    /** A {@code host:port} value, checked. */
    String hostPort(String key, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw bad(key, "'" + value + "' is not host:port");
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw bad(key, "port out of range in '" + value + "'");
            }
        } catch (NumberFormatException e) {
            throw bad(key, "'" + value + "' is not host:port");
        }
        return value;
    }

    /**
     * The S3 credentials: the access-key and secret-key settings (both or neither), else
     * {@code HAYLOFT_ACCESS_KEY} and {@code HAYLOFT_SECRET_KEY}, else the development defaults.
     */
    Credentials credentials() {
        String accessKey = get("access-key", null);
        String secretKey = get("secret-key", null);
        if ((accessKey == null) != (secretKey == null)) {
            throw bad(accessKey == null ? "secret-key" : "access-key", "give access-key and secret-key together");
        }
        return accessKey != null ? new Credentials(accessKey, secretKey, false) : Credentials.fromEnvironment();
    }

    /** A bad value of {@code key}, named as the person gave it (file and key, or flag). */
    CliException bad(String key, String why) {
        return CliException.usage(sources.getOrDefault(key, key) + ": " + why);
    }
}
