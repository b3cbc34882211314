/* void pw_pico_run_on_stack(void (*fn)(void *), void *arg, void *stack_top)
 *
 * Calls fn(arg) with the stack pointer at stack_top (8-byte aligned, full-descending), then returns
 * on the caller's stack. The SDK's main stack is 2 KiB in SCRATCH_Y; the host, lwIP and the core run
 * on a big static stack instead (native/pico/main.c). Cortex-M0+ (Thumb-1). Interrupts taken while
 * fn runs use this stack too (MSP), which is what we want.
 */
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .text.pw_pico_run_on_stack, "ax", %progbits
    .global pw_pico_run_on_stack
    .type pw_pico_run_on_stack, %function
    .thumb_func
pw_pico_run_on_stack:
    push {r4, lr}
    mov r4, sp
    mov sp, r2
    mov r3, r0
    mov r0, r1
    blx r3
    mov sp, r4
    pop {r4, pc}
    .size pw_pico_run_on_stack, . - pw_pico_run_on_stack
