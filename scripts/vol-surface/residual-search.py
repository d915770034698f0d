#!/usr/bin/env python3
"""Review rv17b's SLSQP search for the worst calendar / change residual (notes/rv17b-residual-*.py),
rerun with the checks of SviMath._dominance as its constraints (float model): over admissible
smiles accepted against a skewed (P0) and a flat reference, the worst w_longer - w_shorter and the
worst ratio of w + f(k) found on |k| <= 0.5 and |k| <= 2. Needs numpy and scipy. docs/vol-surface.md
records the output (none beyond float noise).
"""
import numpy as np
from scipy.optimize import minimize
F=1e-4
def w(p,k):
    a,b,r,m,s=p; x=k-m; return a+b*(r*x+np.sqrt(x*x+s*s))
def bound(g,h,ratio):
    ga,gb,gr,gm,gs=g; ha,hb,hr,hm,hs=h
    L=(ratio-1)*F
    B=ratio*gb-hb+L; C=ratio*gb*gr-hb*hr
    d=np.hypot(gm-hm,gs-hs)
    A0=ratio*ga-ha-hb*hr*(gm-hm)-hb*d+L*(1-gs-abs(gm))
    return [B+C,B-C,A0+gs*np.sqrt(max((B+C)*(B-C),0))]
rng=np.random.default_rng(7)
P0=[0.02,0.1,-0.3,0.0,0.2]
FLAT=[0.04,0.0,0.0,0.0,0.1]
for ref in [P0,FLAT]:
  for lo,hi in [(-0.5,0.5),(-2,2)]:
    g=np.linspace(lo,hi,2001)
    for kind in ['cal','change']:
        best=None
        for t in range(150):
            x0=[rng.uniform(-0.3,0.05), rng.uniform(0,1), rng.uniform(-0.95,0.95), rng.uniform(lo,hi), 10**rng.uniform(-3,-0.3)]
            def cons(p):
                a,b,r,m,s=p
                c=[a+b*s*np.sqrt(1-r*r), 1.99-b*(1+abs(r))]
                if kind=='cal': c+=bound(p,ref,1.0)
                else: c+=bound(ref,p,4.0)+bound(p,ref,4.0)
                return np.array(c)
            def obj(p):
                kf=lambda k: F*(1+abs(k))
                d=((w(p,g)+kf(g))/(w(ref,g)+kf(g))) if kind=='change' else (w(p,g)-w(ref,g))
                d2=((w(ref,g)+kf(g))/(w(p,g)+kf(g))) if kind=='change' else d
                dd=np.minimum(1/d,1/d2) if kind=='change' else d
                return -np.log(np.sum(np.exp(-(dd-dd.min())*2000)))/2000+dd.min()
            try: res=minimize(obj,x0,constraints=[{'type':'ineq','fun':cons}],bounds=[(-1,1),(0,2),(-0.98,0.98),(-3,3),(1e-4,2)],method='SLSQP',options={'maxiter':300})
            except Exception: continue
            p=res.x; cc=cons(p)
            if np.isnan(cc).any() or cc.min()< -1e-12: continue
            gg=np.linspace(lo,hi,100001)
            if kind=='change':
                kf=F*(1+np.abs(gg)); up=(w(p,gg)+kf)/(w(ref,gg)+kf); dn=1/up
                v=max(up.max(),dn.max()); i=None
            else:
                dd=w(p,gg)-w(ref,gg); i=dd.argmin(); v=dd[i]
            if best is None or (v>best[0] if kind=='change' else v<best[0]): best=(v,p)
        v,p=best
        name='P0' if ref is P0 else 'flat'
        if kind=='change': print(f'ref {name} |k|<={hi}: worst change ratio of w+f found {v:.4f} (allowed 4) p={np.round(p,4).tolist()}')
        else: print(f'ref {name} |k|<={hi}: worst calendar w_long-w_short found {v:.3e} p={np.round(p,4).tolist()}')
