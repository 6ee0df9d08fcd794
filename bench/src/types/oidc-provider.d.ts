// oidc-provider ships no types; the benchmark uses a handful of its calls.
declare module "oidc-provider" {
  // biome-ignore lint/suspicious/noExplicitAny: an untyped third-party constructor
  const Provider: any;
  export default Provider;
}
