package io.hayloft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Command-line mistakes and an unreachable server end in one line and their exit codes. */
class CliUsageTest {
    @Test
    void helpListsTheExitCodes() {
        Cli.Run help = Cli.run("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("server", "bench", "Exit codes:", "5  server unreachable");
    }

    @Test
    void everySubcommandHasHelp() {
        for (String command : new String[] {"server", "put", "get", "bench", "status", "gateway"}) {
            Cli.Run help = Cli.run(command, "--help");
            assertThat(help.exit()).as(command).isZero();
            assertThat(help.out()).as(command).startsWith("Usage: hayloft " + command);
        }
    }

    @Test
    void keysFromTheEnvironmentAreTrimmedAsS3ClientsTrimThem() {
        Credentials c = Credentials.from(java.util.Map.of("HAYLOFT_ACCESS_KEY", " ann ",
                "HAYLOFT_SECRET_KEY", "s3cret\n"));
        assertThat(c.accessKey()).isEqualTo("ann");
        assertThat(c.secretKey()).isEqualTo("s3cret");
        assertThat(c.development()).isFalse();
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertThat(Cli.run("put").exit()).isEqualTo(Exit.USAGE);
        assertThat(Cli.run("frobnicate").exit()).isEqualTo(Exit.USAGE);
        Cli.Run notAnAddress = Cli.run("stat", "bucket/key", "--endpoint", "http://127.0.0.1:1");
        assertThat(notAnAddress.exit()).isEqualTo(Exit.USAGE);
        assertThat(notAnAddress.err()).isEqualTo("stat: not an s3://bucket/key address: bucket/key"
                + System.lineSeparator());
        Cli.Run shortName = Cli.run("mb", "s3://b", "--endpoint", "http://127.0.0.1:1");
        assertThat(shortName.exit()).isEqualTo(Exit.USAGE);
        assertThat(shortName.err()).startsWith("mb: s3://b: Bucket name should be between 3 and 63");
        Cli.Run badSize = Cli.run("bench", "-s", "4 parsecs");
        assertThat(badSize.exit()).isEqualTo(Exit.USAGE);
        assertThat(badSize.err()).contains("not a size");
        Cli.Run plainOverTls = Cli.run("bench", "--endpoint", "https://127.0.0.1:1");
        assertThat(plainOverTls.exit()).isEqualTo(Exit.USAGE);
        assertThat(plainOverTls.err()).contains("--client plain speaks http:// only; use --client sdk");
        Cli.Run badClient = Cli.run("bench", "--client", "curl");
        assertThat(badClient.exit()).isEqualTo(Exit.USAGE);
    }

    @Test
    void anUnreachableEndpointHasItsOwnExitCode() throws Exception {
        String endpoint = "http://127.0.0.1:" + Cli.freePort();
        Cli.Run ls = Cli.run("ls", "--endpoint", endpoint);
        assertThat(ls.exit()).isEqualTo(Exit.UNREACHABLE);
        assertThat(ls.err()).startsWith("ls: cannot reach " + endpoint).doesNotContain("\tat ");
        Cli.Run verbose = Cli.run("ls", "--endpoint", endpoint, "--verbose");
        assertThat(verbose.err()).contains("\tat ");
    }

    @Test
    void aMissingLocalFileIsNotFound() throws Exception {
        Cli.Run put = Cli.run("put", "/no/such/file", "s3://b/k", "--endpoint", "http://127.0.0.1:" + Cli.freePort());
        assertThat(put.exit()).isEqualTo(Exit.NOT_FOUND);
        assertThat(put.err()).contains("no such file: /no/such/file");
    }
}
