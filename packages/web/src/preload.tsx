import { type ComponentType, lazy, useState } from "react";

/**
 * A component of a chunk of its own whose fetch starts now (`load`): rendered directly once the
 * chunk has arrived, through `React.lazy` (suspending) only if it is rendered before. A lazy
 * component suspends on its first render even when its chunk is already there, and React holds
 * back the content that replaces a fallback for up to 300 ms: this skips both for a chunk fetched
 * while the user was still reading the page. The choice is made once per mount (switching the
 * element type later would remount it).
 */
export function preloaded<P extends object>(load: Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  load.then(
    (component) => (loaded = component),
    () => {}, // the lazy path rethrows it where the component is rendered
  );
  const Lazy = lazy(() => load.then((component) => ({ default: component })));
  return function Preloaded(props: P) {
    const [Component] = useState<ComponentType<P>>(() => loaded ?? Lazy);
    return <Component {...props} />;
  };
}
