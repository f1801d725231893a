package dev.vaco.reward;

import dev.vaco.reward.Expr.Rel;
import java.util.List;

/**
 * Which side of an equation is the answer (Math-Verify's rule, applied at every level of a comparison).
 *
 * <ul>
 *   <li>An assignment is an equation, or a chain of them, whose first left side is built from symbols alone
 *       ({@code x = 3}, {@code a = b = 3}, {@code x + y = 5}, {@code \frac{a}{b} = \frac12}); its chain is cut to
 *       first left side = last right side ({@code x = 12 - 5 = 7} is {@code x = 7}).</li>
 *   <li>A predicted equation against a gold that is not one answers with its last right side
 *       ({@code 12 - 5 = 7} answers 7).</li>
 *   <li>A gold assignment against a prediction that is not an equation is its right side ({@code x = 7} vs 7);
 *       a gold equation that constrains ({@code 2x + 3 = 7}) stays an equation, so a bare 2 is not its answer.</li>
 *   <li>Two assignments stay equations, so the names count: {@code z = 10} is not {@code w = 10}.</li>
 * </ul>
 */
final class Assignments {
    private Assignments() {
    }

    record Pair(Expr gold, Expr pred) {
    }

    static boolean isEquation(Expr e) {
        return e instanceof Rel r && r.ops().stream().allMatch("="::equals);
    }

    static boolean isAssignment(Expr e) {
        return isEquation(e) && Normalizer.symbolLike(((Rel) e).operands().get(0));
    }

    static Pair orient(Expr gold, Expr pred) {
        boolean goldEquation = isEquation(gold);
        boolean predEquation = isEquation(pred);
        boolean goldAssignment = isAssignment(gold);
        Expr g = goldAssignment ? cut(gold) : gold;
        Expr p = isAssignment(pred) ? cut(pred) : pred;
        if (predEquation && !goldEquation) {
            p = last(p);
        } else if (goldAssignment && !predEquation) {
            g = last(g);
        }
        return new Pair(g, p);
    }

    private static Expr cut(Expr e) {
        Rel r = (Rel) e;
        return r.ops().size() == 1 ? r : new Rel(List.of(r.operands().get(0), last(r)), List.of("="));
    }

    private static Expr last(Expr e) {
        List<Expr> ops = ((Rel) e).operands();
        return ops.get(ops.size() - 1);
    }
}
