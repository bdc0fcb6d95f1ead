// SPDX-License-Identifier: Apache-2.0
// The program the exec benchmark runs: exits 0 at once. Linked statically and copied to a tmpfs by the
// benchmark, so an exec reads no shared library and no file from the VM's 9p root.
int main(void)
{
	return 0;
}
