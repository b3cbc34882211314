/* Preprocessor helpers over the X-macros of picowire_abi.h (PW_ABI_IMPORTS / PW_ABI_EXPORTS).
 *
 * Each X-macro row is X(name, wasm3 signature, C result, C parameter list), the parameter list being
 * e.g. (int32_t conn, uint32_t src, int32_t len) or (void). The macros here turn such a list into the
 * forms a binding needs without anyone listing the functions again:
 *
 *   PW_DECL(params)  -> , int32_t conn, uint32_t src, int32_t len     (extra parameters after a context)
 *   PW_NAMES(params) -> , conn, src, len                              (forwarding the arguments)
 *   PW_U32(params)   -> , uint32_t conn, uint32_t src, uint32_t len   (wasm engines pass every i32 as u32)
 *   PW_NPARAMS(params) -> 3
 *
 * (void) gives nothing, so `f(ctx PW_NAMES(params))` works for every row. Only the C types the generator
 * emits are known (int32_t, uint32_t, void): a new type in the spec fails loudly at compile time here.
 */
#ifndef PW_ABI_UTIL_H
#define PW_ABI_UTIL_H

#define PW_CAT(a, b) PW_CAT_(a, b)
#define PW_CAT_(a, b) a##b
#define PW_UNPAREN(...) __VA_ARGS__

#define PW_NARG(...) PW_NARG_(__VA_ARGS__, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define PW_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, N, ...) N

/* PW_MAP(f, a, b, c) -> f(a) f(b) f(c); up to 10 elements. */
#define PW_MAP(f, ...) PW_MAP_(f, __VA_ARGS__)
#define PW_MAP_(f, ...) PW_CAT(PW_MAP_, PW_NARG(__VA_ARGS__))(f, __VA_ARGS__)
#define PW_MAP_1(f, a) f(a)
#define PW_MAP_2(f, a, ...) f(a) PW_MAP_1(f, __VA_ARGS__)
#define PW_MAP_3(f, a, ...) f(a) PW_MAP_2(f, __VA_ARGS__)
#define PW_MAP_4(f, a, ...) f(a) PW_MAP_3(f, __VA_ARGS__)
#define PW_MAP_5(f, a, ...) f(a) PW_MAP_4(f, __VA_ARGS__)
#define PW_MAP_6(f, a, ...) f(a) PW_MAP_5(f, __VA_ARGS__)
#define PW_MAP_7(f, a, ...) f(a) PW_MAP_6(f, __VA_ARGS__)
#define PW_MAP_8(f, a, ...) f(a) PW_MAP_7(f, __VA_ARGS__)
#define PW_MAP_9(f, a, ...) f(a) PW_MAP_8(f, __VA_ARGS__)
#define PW_MAP_10(f, a, ...) f(a) PW_MAP_9(f, __VA_ARGS__)

/* One parameter "type name" -> a form chosen by pasting a prefix onto its type token. */
#define PW_DECL_int32_t , int32_t
#define PW_DECL_uint32_t , uint32_t
#define PW_DECL_void
#define PW_NAME_int32_t ,
#define PW_NAME_uint32_t ,
#define PW_NAME_void
#define PW_U32_int32_t , uint32_t
#define PW_U32_uint32_t , uint32_t
#define PW_U32_void
#define PW_ONE_int32_t +1 PW_EAT_NAME(
#define PW_ONE_uint32_t +1 PW_EAT_NAME(
#define PW_ONE_void PW_EAT_NAME(
#define PW_EAT_NAME(...)

#define PW_DECL_1(p) PW_CAT(PW_DECL_, p)
#define PW_NAME_1(p) PW_CAT(PW_NAME_, p)
#define PW_U32_1(p) PW_CAT(PW_U32_, p)
#define PW_ONE_1(p) PW_CAT(PW_ONE_, p) )

#define PW_DECL(params) PW_MAP(PW_DECL_1, PW_UNPAREN params)
#define PW_NAMES(params) PW_MAP(PW_NAME_1, PW_UNPAREN params)
#define PW_U32(params) PW_MAP(PW_U32_1, PW_UNPAREN params)
#define PW_NPARAMS(params) (0 PW_MAP(PW_ONE_1, PW_UNPAREN params))

/* Result types: a pointer to store one into, and "return" only where there is a value. */
#define PW_RESULT_PTR(ret) PW_CAT(PW_RESULT_PTR_, ret)
#define PW_RESULT_PTR_int32_t int32_t *
#define PW_RESULT_PTR_uint32_t uint32_t *
#define PW_RESULT_PTR_void void *
/* PW_STORE(ret, out, call): evaluates call and, for a non-void result, stores it in *out when out is set. */
#define PW_STORE(ret, out, call) PW_CAT(PW_STORE_, ret)(out, call)
#define PW_STORE_int32_t(out, call) do { int32_t pw_r_ = (int32_t)(call); if (out) *(out) = pw_r_; } while (0)
#define PW_STORE_uint32_t(out, call) do { uint32_t pw_r_ = (uint32_t)(call); if (out) *(out) = pw_r_; } while (0)
#define PW_STORE_void(out, call) do { (void)(out); call; } while (0)
/* PW_RETURN(ret) call;  ->  "return call;" or "call;" */
#define PW_RETURN(ret) PW_CAT(PW_RETURN_, ret)
#define PW_RETURN_int32_t return
#define PW_RETURN_uint32_t return
#define PW_RETURN_void
/* The C type a wasm engine uses for a result: every i32 crosses as uint32_t. */
#define PW_WASM_RESULT(ret) PW_CAT(PW_WASM_RESULT_, ret)
#define PW_WASM_RESULT_int32_t uint32_t
#define PW_WASM_RESULT_uint32_t uint32_t
#define PW_WASM_RESULT_void void

#endif
