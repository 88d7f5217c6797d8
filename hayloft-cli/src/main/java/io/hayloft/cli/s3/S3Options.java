package io.hayloft.cli.s3;

import io.hayloft.cli.CliException;
import io.hayloft.cli.Credentials;
import java.net.URI;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import picocli.CommandLine.Option;

/**
 * Where the S3 commands send their requests, and the client that sends them: the AWS SDK's S3
 * client, path-style, region us-east-1, signing with {@link Credentials#fromEnvironment()}.
 */
public final class S3Options {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration SOCKET_TIMEOUT = Duration.ofMinutes(2);

    @Option(names = "--endpoint", paramLabel = "URL", defaultValue = "${env:HAYLOFT_ENDPOINT:-http://127.0.0.1:9000}",
            description = "S3 endpoint (default: $HAYLOFT_ENDPOINT or ${DEFAULT-VALUE}).")
    String endpoint;

    public URI endpoint() {
        try {
            URI uri = URI.create(endpoint);
            if (uri.getScheme() == null || uri.getHost() == null) {
                throw CliException.usage("not an http(s) URL: " + endpoint);
            }
            return uri;
        } catch (IllegalArgumentException e) {
            throw CliException.usage("not a URL: " + endpoint);
        }
    }

    /** A client with the JDK's HTTP connection; the caller closes it. */
    public S3Client client() {
        return client(UrlConnectionHttpClient.builder().connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(SOCKET_TIMEOUT));
    }

    /** A client over the given HTTP client; the caller closes it. */
    public S3Client client(SdkHttpClient.Builder<?> http) {
        Credentials c = Credentials.fromEnvironment();
        return S3Client.builder()
                .endpointOverride(endpoint())
                .region(Region.US_EAST_1)
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(c.accessKey(), c.secretKey())))
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .httpClientBuilder(http)
                .build();
    }
}
