#include <stdio.h>
int main(void) { puts("lstmsweep"); return 0; }
