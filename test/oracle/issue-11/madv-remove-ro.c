/* MADV_REMOVE needs VM_SHARED|VM_MAYWRITE, not PROT_WRITE: a memfd mapping mprotect'ed read-only is
 * punched (0), one of an O_RDONLY descriptor is EACCES. Run on the 6.1 referee: madv-remove-ro-6.1.out.
 * gcc -static -O2 -o madv-remove-ro madv-remove-ro.c */
#define _GNU_SOURCE
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <stdlib.h>
#define PS 4096
static void maps(void *p){char b[8192];int fd=open("/proc/self/maps",O_RDONLY);int n=read(fd,b,sizeof b-1);b[n]=0;close(fd);char k[32];snprintf(k,32,"%lx-",(unsigned long)p);char*l=strstr(b,k);if(l){char*e=strchr(l,'\n');if(e)*e=0;printf("  maps: %s\n",l);}}
int main(){
 int fd=memfd_create("t",0); ftruncate(fd,4*PS);
 unsigned char*p=mmap(NULL,8*PS,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
 errno=0; int r=mlock(p,8*PS); printf("mlock %d %s\n",r,strerror(errno));
 errno=0; r=munlock(p,8*PS); printf("munlock %d %s\n",r,strerror(errno));
 p[0]=1;
 errno=0; r=mprotect(p,8*PS,PROT_READ); printf("mprotect %d %s\n",r,strerror(errno)); maps(p);
 errno=0; r=madvise(p,PS,MADV_REMOVE); printf("remove %d %s\n",r,strerror(errno));
 munmap(p,8*PS);
 p=mmap(NULL,4*PS,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0); p[0]=1;
 errno=0; r=mprotect(p,4*PS,PROT_READ); printf("mprotect2 %d %s\n",r,strerror(errno)); maps(p);
 errno=0; r=madvise(p,PS,MADV_REMOVE); printf("remove2 %d %s\n",r,strerror(errno));
 munmap(p,4*PS);
 p=mmap(NULL,4*PS,PROT_READ,MAP_SHARED,fd,0);
 errno=0; r=madvise(p,PS,MADV_REMOVE); printf("remove3-ro-mapped %d %s\n",r,strerror(errno));
 munmap(p,4*PS);
 int fd2=open("/proc/self/fd/3",O_RDONLY);
 p=mmap(NULL,4*PS,PROT_READ,MAP_SHARED,fd2,0);
 errno=0; r=madvise(p,PS,MADV_REMOVE); printf("remove4-rdonly-fd %d %s\n",r,strerror(errno));
 return 0;}
