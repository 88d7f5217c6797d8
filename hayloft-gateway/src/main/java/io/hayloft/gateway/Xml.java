package io.hayloft.gateway;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.helpers.DefaultHandler;

/**
 * S3's XML: a small writer for response bodies, and a parser for request bodies that refuses
 * document types and external entities (no XXE), turning every malformed body into MalformedXML.
 */
final class Xml {
    static final String NS = "http://s3.amazonaws.com/doc/2006-03-01/";

    private final StringBuilder out = new StringBuilder(256).append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    private final List<String> open = new ArrayList<>();

    /** Opens the root element, in S3's namespace. */
    static Xml root(String name) {
        Xml x = new Xml();
        x.out.append('<').append(name).append(" xmlns=\"").append(NS).append("\">");
        x.open.add(name);
        return x;
    }

    /** Opens the root element without a namespace (S3's error bodies have none). */
    static Xml bareRoot(String name) {
        Xml x = new Xml();
        x.out.append('<').append(name).append('>');
        x.open.add(name);
        return x;
    }

    Xml start(String name) {
        out.append('<').append(name).append('>');
        open.add(name);
        return this;
    }

    Xml end() {
        out.append("</").append(open.removeLast()).append('>');
        return this;
    }

    /** An element with text; nothing when the value is null. */
    Xml el(String name, Object value) {
        if (value != null) {
            out.append('<').append(name).append('>');
            escape(String.valueOf(value));
            out.append("</").append(name).append('>');
        }
        return this;
    }

    /** Text inside the element open now. */
    Xml text(String value) {
        escape(value);
        return this;
    }

    byte[] toBytes() {
        while (!open.isEmpty()) {
            end();
        }
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void escape(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&apos;");
                case '\r' -> out.append("&#13;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        // Not representable in XML 1.0: S3 clients ask for encoding-type=url for such keys.
                        out.append("&#x").append(Integer.toHexString(c)).append(';');
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }

    // ---- parsing

    /** Parses a request body; the root element must have the given local name. */
    static Element parse(byte[] body, String rootName) {
        if (body.length == 0) {
            throw new S3Exception(S3Error.MALFORMED_XML);
        }
        try {
            Document doc = builder().parse(new ByteArrayInputStream(body));
            Element root = doc.getDocumentElement();
            if (!rootName.equals(localName(root))) {
                throw new S3Exception(S3Error.MALFORMED_XML, "expected <" + rootName + ">, got <" + localName(root) + ">");
            }
            return root;
        } catch (S3Exception e) {
            throw e;
        } catch (Exception e) {
            throw new S3Exception(S3Error.MALFORMED_XML);
        }
    }

    /** The child elements with the given local name, in document order. */
    static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && name.equals(localName(e))) {
                out.add(e);
            }
        }
        return out;
    }

    /** The text of the only child with that name, or null when there is none. */
    static String childText(Element parent, String name) {
        List<Element> c = children(parent, name);
        if (c.size() > 1) {
            throw new S3Exception(S3Error.MALFORMED_XML, "more than one <" + name + ">");
        }
        return c.isEmpty() ? null : c.getFirst().getTextContent();
    }

    private static String localName(Element e) {
        return e.getLocalName() != null ? e.getLocalName() : e.getTagName();
    }

    private static DocumentBuilder builder() throws ParserConfigurationException {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature("http://xml.org/sax/features/external-general-entities", false);
        f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        DocumentBuilder b = f.newDocumentBuilder();
        b.setErrorHandler(new DefaultHandler());  // silent; fatal errors still throw
        return b;
    }
}
