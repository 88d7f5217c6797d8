package io.hayloft.gateway.auth;

import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.ACCESS_KEY;
import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.CLOCK;
import static io.hayloft.gateway.auth.SdkSignerCompatibilityTest.SECRET;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.http.SdkHttpRequest;

/** AWS's URI encoding, and the tolerance of paths that clients encode in their own way. */
class CanonicalTest {

    @Test
    void uriEncodeFollowsAwsRules() {
        assertThat(SigV4Verifier.uriEncode("AZaz09-._~", true)).isEqualTo("AZaz09-._~");
        assertThat(SigV4Verifier.uriEncode("a b/c+d=e&f*g!h'(i)", false))
                .isEqualTo("a%20b/c%2Bd%3De%26f%2Ag%21h%27%28i%29");
        assertThat(SigV4Verifier.uriEncode("a/b", true)).isEqualTo("a%2Fb");
        assertThat(SigV4Verifier.uriEncode("ü😀", false)).isEqualTo("%C3%BC%F0%9F%98%80");
        assertThat(SigV4Verifier.uriEncode("%", false)).isEqualTo("%25");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "/a%2fb|/a%2Fb", "/a+b|/a%2Bb", "/a b|/a%20b", "/%zz|/%25zz", "/ü|/%C3%BC", "/%c3%bc|/%C3%BC",
            "/%FF|/%FF", "//a///b/|//a///b/", "/a%7Eb|/a~b", "/a!b|/a%21b", "/100%|/100%25"})
    void reencodedPaths(String raw, String canonical) {
        assertThat(Canonical.uri(raw)).isEqualTo(canonical);
    }

    @Test
    void canonicalQuerySortsAndReencodes() {
        assertThat(Canonical.query("b=2&a=2&a=1&c&d=x+y&e=%7e", true, null)).isEqualTo("a=1&a=2&b=2&c=&d=x%2By&e=~");
        assertThat(Canonical.query("X-Amz-Signature=abc&a=1", true, "X-Amz-Signature")).isEqualTo("a=1");
        assertThat(Canonical.query("", true, null)).isEmpty();
    }

    @Test
    void headerValuesAreTrimmedAndCollapsed() {
        assertThat(Canonical.trimAll("  a   b \t c  ")).isEqualTo("a b c");
        assertThat(Canonical.trimAll("")).isEmpty();
    }

    @Test
    void pathsEncodedOtherwiseThanSignedStillVerify() {
        var verifier = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, CLOCK);
        var signed = SdkSigning.sign(SdkSignerCompatibilityTest.request(SdkHttpMethod.GET, "http", "a!b(c)*ü ~").build(),
                null, ACCESS_KEY, SECRET, CLOCK, SdkSigning.Options.header(true));
        for (String wirePath : new String[] {"/bucket/a!b(c)*%c3%bc%20~", "/bucket/a%21b%28c%29%2a%C3%BC%20%7E"}) {
            var request = new SignedRequest("GET", wirePath, "", signed.request().headers());
            assertThat(verifier.verify(request).accessKey()).as(wirePath).isEqualTo(ACCESS_KEY);
        }
    }

    @Test
    void clientsSigningTheirOwnWireFormStillVerify() {
        var verifier = new SigV4Verifier(Map.of(ACCESS_KEY, SECRET), false, CLOCK);
        SdkHttpRequest request = SdkHttpRequest.builder().method(SdkHttpMethod.GET).protocol("http").host("h").port(9000)
                .encodedPath("/bucket/a!b(c)").build();
        var signed = SdkSigning.sign(request, null, ACCESS_KEY, SECRET, CLOCK, SdkSigning.Options.header(true));
        assertThat(signed.request().rawPath()).isEqualTo("/bucket/a!b(c)");
        assertThat(verifier.verify(signed.request()).accessKey()).isEqualTo(ACCESS_KEY);
    }
}
