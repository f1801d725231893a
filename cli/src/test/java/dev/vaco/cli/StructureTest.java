package dev.vaco.cli;

import com.github.javaparser.ParserConfiguration;
import com.github.javaparser.ParserConfiguration.LanguageLevel;
import com.github.javaparser.JavaParser;
import com.github.javaparser.ast.CompilationUnit;
import com.github.javaparser.ast.body.CallableDeclaration;
import com.github.javaparser.ast.body.CompactConstructorDeclaration;
import com.github.javaparser.ast.body.TypeDeclaration;
import com.github.javaparser.ast.expr.SwitchExpr;
import com.github.javaparser.ast.stmt.SwitchStmt;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The structure the project keeps (issue 14): no dependency cycle between packages, no main file over 500 lines, no
 * method over 80 lines outside a parser's grammar switch, no module with 20% or more of the main lines, one class per
 * name. Module cycles Maven refuses by itself. The source checks read the whole checkout, the cycle check the compiled
 * classes of every module the CLI puts together (all but {@code bench/}, which nothing depends on).
 */
class StructureTest {
    static final int MAX_FILE_LINES = 500;
    static final int MAX_METHOD_LINES = 80;
    static final double MAX_MODULE_SHARE = 0.20;

    private static Path root;

    @BeforeAll
    static void findCheckout() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !(Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("cli")))) {
            p = p.getParent();
        }
        assertThat(p).as("the checkout holding cli/ and the root pom.xml, above " + Path.of("").toAbsolutePath())
                .isNotNull();
        root = p;
    }

    @Test
    void packagesHaveNoCycles() {
        JavaClasses classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                // other modules' test-jars (the server's test support, which cli's tests use) are tests too
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("dev.vaco");
        assertThat(classes.size()).as("main classes of dev.vaco found on the test classpath").isGreaterThan(200);
        slices().matching("dev.vaco.(**)").should().beFreeOfCycles().check(classes);
    }

    @Test
    void noMainFileOverTheLimit() throws IOException {
        List<String> over = new ArrayList<>();
        for (Path f : javaFiles("main")) {
            long n = lines(f);
            if (n > MAX_FILE_LINES) over.add(root.relativize(f) + ": " + n + " lines");
        }
        assertThat(over).as("main files over " + MAX_FILE_LINES + " lines").isEmpty();
    }

    /** A parser's grammar switch (a method of a *Parser or *Lexer class that switches on the input) may be long. */
    @Test
    void noMethodOverTheLimit() throws IOException {
        JavaParser parser = new JavaParser(new ParserConfiguration().setLanguageLevel(LanguageLevel.JAVA_17));
        List<String> over = new ArrayList<>();
        int methods = 0;
        for (Path f : javaFiles("main")) {
            CompilationUnit cu = parser.parse(f).getResult().orElseThrow(() -> new AssertionError("unparsable: " + f));
            List<com.github.javaparser.ast.Node> callables = new ArrayList<>(cu.findAll(CallableDeclaration.class));
            callables.addAll(cu.findAll(CompactConstructorDeclaration.class));
            for (var m : callables) {
                methods++;
                int n = m.getRange().map(r -> r.end.line - r.begin.line + 1).orElse(0);
                if (n <= MAX_METHOD_LINES || grammarSwitch(m)) continue;
                over.add(root.relativize(f) + ":" + m.getBegin().map(b -> b.line).orElse(0) + " " + name(m) + ": "
                        + n + " lines");
            }
        }
        assertThat(methods).as("methods read").isGreaterThan(1000);
        assertThat(over).as("methods over " + MAX_METHOD_LINES + " lines").isEmpty();
    }

    @Test
    void noModuleHoldsAFifthOfTheMainLines() throws IOException {
        Map<String, Long> perModule = new TreeMap<>();
        for (Path f : javaFiles("main")) perModule.merge(root.relativize(f).getName(0).toString(), lines(f), Long::sum);
        long total = perModule.values().stream().mapToLong(Long::longValue).sum();
        List<String> over = new ArrayList<>();
        perModule.forEach((m, n) -> {
            if (n >= MAX_MODULE_SHARE * total) over.add(m + ": " + n + " of " + total + " main lines");
        });
        assertThat(perModule).as("modules").hasSizeGreaterThanOrEqualTo(8);
        assertThat(over).as("modules with " + (int) (MAX_MODULE_SHARE * 100) + "% or more of the main lines").isEmpty();
    }

    @Test
    void everyClassNameIsUnique() throws IOException {
        Map<String, List<String>> where = new TreeMap<>();
        for (String set : List.of("main", "test")) {
            for (Path f : javaFiles(set)) {
                String name = f.getFileName().toString().replace(".java", "");
                if (name.equals("package-info") || name.equals("module-info")) continue;
                where.computeIfAbsent(name, k -> new ArrayList<>()).add(root.relativize(f).toString());
            }
        }
        where.values().removeIf(paths -> paths.size() == 1);
        assertThat(where).as("class names used by more than one file").isEmpty();
    }

    private static boolean grammarSwitch(com.github.javaparser.ast.Node m) {
        String type = m.findAncestor(TypeDeclaration.class).map(t -> t.getNameAsString()).orElse("");
        boolean parser = type.endsWith("Parser") || type.endsWith("Lexer");
        return parser && (!m.findAll(SwitchStmt.class).isEmpty() || !m.findAll(SwitchExpr.class).isEmpty());
    }

    private static String name(com.github.javaparser.ast.Node m) {
        String type = m.findAncestor(TypeDeclaration.class).map(t -> t.getNameAsString()).orElse("?");
        String method = m instanceof CallableDeclaration<?> c ? c.getNameAsString() : "(compact constructor)";
        return type + "." + method;
    }

    /** Every .java file of {@code src/<set>/java} in every module of the checkout (build output and npm trees left out). */
    private static List<Path> javaFiles(String set) throws IOException {
        String marker = "/src/" + set + "/java/";
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> ("/" + root.relativize(p)).contains(marker))
                    .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/node_modules/")
                            && !p.toString().contains("/.git/"))
                    .sorted().toList();
        }
    }

    private static long lines(Path f) throws IOException {
        try (Stream<String> s = Files.lines(f)) {
            return s.count();
        }
    }
}
