"""The question forms the demo's warm start was probed on (BENCHMARKS.md, "Does the warm start transfer?").

Writes one JSONL file per form (problem, answer, level = the form's name), 150 problems each (80 for onestart6,
whose pool is smaller), drawn with a fixed seed, e.g. `What is 47 + 8 - 5?` (space7) or `Compute 47+8-5.` (compute7).
Evaluate with: vaco eval --model runs/demo/warm-start --dataset FORM.jsonl --prompt builtin --max-tokens 40 [--k 8 --temperature 1]
Usage: python3 question_forms.py [OUT_DIR]
"""
import os, sys
import random, json
OUT = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(OUT, exist_ok=True)
R = random.Random(7)
def chain(k, start=(10,99), ops=(1,9)):
    v = R.randint(*start); parts=[str(v)]; lines=[]
    for _ in range(k):
        d = R.randint(*ops)
        op = '-' if v+d>99 else '+' if v-d<0 else R.choice('+-')
        nv = v+d if op=='+' else v-d
        lines.append(f"{v}{op}{d}={nv}"); parts += [op, str(d)]; v = nv
    return parts, v
def write(name, n, fn):
    seen=set(); out=[]
    while len(out)<n:
        q,a = fn()
        if q in seen: continue
        seen.add(q); out.append({"problem":q,"answer":str(a),"level":name})
    with open(os.path.join(OUT, name+".jsonl"),"w") as f:
        for o in out: f.write(json.dumps(o)+"\n")
def std(k): 
    p,v=chain(k); return "What is "+"".join(p)+"?", v
write("l6", 150, lambda: std(1))
write("l7", 150, lambda: std(2))
write("l8", 150, lambda: std(3))
write("space6", 150, lambda: (lambda p,v: ("What is "+" ".join(p)+"?", v))(*chain(1)))
write("space7", 150, lambda: (lambda p,v: ("What is "+" ".join(p)+"?", v))(*chain(2)))
write("onestart6", 80, lambda: (lambda p,v: ("What is "+"".join(p)+"?", v))(*chain(1,(1,9))))
write("onestart7", 150, lambda: (lambda p,v: ("What is "+"".join(p)+"?", v))(*chain(2,(1,9))))
def tens():
    a=R.randint(10,89); b=R.randint(1,9)*10
    op = R.choice('+-')
    if op=='+' and a+b>99: op='-'
    if op=='-' and a-b<0: op='+'
    return f"What is {a}{op}{b}?", a+b if op=='+' else a-b
write("tens", 150, tens)
def commute():
    a=R.randint(10,90); d=R.randint(1,9)
    if a+d>99: a=99-d
    return f"What is {d}+{a}?", a+d
write("commute", 150, commute)
def words(k):
    p,v=chain(k); s=" ".join({"+":"plus","-":"minus"}.get(x,x) for x in p); return "What is "+s+"?", v
write("words6", 150, lambda: words(1))
write("words7", 150, lambda: words(2))
write("eq7", 150, lambda: (lambda p,v: ("".join(p)+"=?", v))(*chain(2)))
write("compute7", 150, lambda: (lambda p,v: ("Compute "+"".join(p)+".", v))(*chain(2)))
def teen():
    a=R.randint(10,80); d=R.randint(10,19)
    op=R.choice('+-')
    if op=='+' and a+d>99: op='-'
    if op=='-' and a-d<0: op='+'
    return f"What is {a}{op}{d}?", a+d if op=='+' else a-d
write("teen", 150, teen)
